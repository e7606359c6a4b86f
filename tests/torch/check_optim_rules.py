#!/usr/bin/python3
"""Checks that the update rules tests/test-optim.c computes by hand are torch.optim's.

tests/test-optim.c steps PruneLab's trainer against a reference written in double from the
rules torch.optim documents (clip_grad_value_, then clip_grad_norm_, then SGD or Adam with
weight decay on the weights only, the L1 penalty part of the loss). This script writes the same
reference in float64 and runs real torch.optim (with two parameter groups, so that the biases
are not decayed) on softmax regression, six steps per case, and fails when they differ by more
than 1e-12. It needs python3-torch; the C test suite does not.

  /usr/bin/python3 tests/torch/check_optim_rules.py
"""

import sys

import torch

STEPS = 6

# (optimizer, torch arguments, clip value, clip norm, l1, weight decay,
#  (lr, momentum, nesterov, beta1, beta2, eps) of the reference) — the cases of test-optim.c
CASES = [
    ("sgd", dict(lr=0.3, momentum=0.9), 0, 0, 0, 0, (0.3, 0.9, False, 0, 0, 0)),
    ("sgd", dict(lr=0.3, momentum=0.9, nesterov=True), 0, 0, 0, 0.05, (0.3, 0.9, True, 0, 0, 0)),
    ("adam", dict(lr=0.05, betas=(0.9, 0.999), eps=1e-8), 0, 0, 0, 0,
     (0.05, 0, False, 0.9, 0.999, 1e-8)),
    ("adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3), 0, 0, 0, 0.1,
     (0.05, 0, False, 0.5, 0.9, 1e-3)),
    ("sgd", dict(lr=0.2, momentum=0.9), 0.08, 0.15, 0.02, 0.1, (0.2, 0.9, False, 0, 0, 0)),
    ("adam", dict(lr=0.05, betas=(0.9, 0.999), eps=1e-8), 0.08, 0.15, 0, 0.1,
     (0.05, 0, False, 0.9, 0.999, 1e-8)),
]


def loss_of(x, y, w, b):
    return torch.nn.functional.cross_entropy(x @ w.T + b, y)


def run_torch(x, y, w0, b0, name, kw, clip_value, clip_norm, l1, wd):
    w = torch.nn.Parameter(w0.clone())
    b = torch.nn.Parameter(b0.clone())
    groups = [{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]
    opt = torch.optim.SGD(groups, **kw) if name == "sgd" else torch.optim.Adam(groups, **kw)
    for _ in range(STEPS):
        opt.zero_grad()
        (loss_of(x, y, w, b) + l1 * w.abs().sum()).backward()
        if clip_value > 0:
            torch.nn.utils.clip_grad_value_([w, b], clip_value)
        if clip_norm > 0:
            torch.nn.utils.clip_grad_norm_([w, b], clip_norm)
        opt.step()
    return torch.cat([w.detach().flatten(), b.detach()])


def run_reference(x, y, w0, b0, name, clip_value, clip_norm, l1, wd, rule):
    lr, momentum, nesterov, beta1, beta2, eps = rule
    n_w = w0.numel()
    theta = torch.cat([w0.flatten(), b0])
    is_weight = torch.zeros_like(theta)
    is_weight[:n_w] = 1
    buf = torch.zeros_like(theta)
    sq = torch.zeros_like(theta)
    for t in range(1, STEPS + 1):
        w = theta[:n_w].view_as(w0).clone().requires_grad_()
        b = theta[n_w:].clone().requires_grad_()
        loss_of(x, y, w, b).backward()
        g = torch.cat([w.grad.flatten(), b.grad]) + l1 * torch.sign(theta) * is_weight
        if clip_value > 0:
            g = g.clamp(-clip_value, clip_value)
        if clip_norm > 0:
            g = g * min(1.0, clip_norm / (g.norm().item() + 1e-6))
        g = g + wd * theta * is_weight
        if name == "sgd":
            buf = g.clone() if t == 1 else momentum * buf + g
            theta = theta - lr * ((g + momentum * buf) if nesterov else buf)
        else:
            buf = beta1 * buf + (1 - beta1) * g
            sq = beta2 * sq + (1 - beta2) * g * g
            theta = theta - lr * (buf / (1 - beta1 ** t)) / ((sq / (1 - beta2 ** t)).sqrt() + eps)
    return theta


def main():
    torch.manual_seed(0)
    x = torch.randn(6, 4, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    w0 = 1.5 * torch.randn(3, 4, dtype=torch.float64)
    b0 = 1.5 * torch.randn(3, dtype=torch.float64)
    worst = 0.0
    for name, kw, clip_value, clip_norm, l1, wd, rule in CASES:
        a = run_torch(x, y, w0, b0, name, kw, clip_value, clip_norm, l1, wd)
        b = run_reference(x, y, w0, b0, name, clip_value, clip_norm, l1, wd, rule)
        diff = (a - b).abs().max().item()
        worst = max(worst, diff)
        print(f"{name} {kw} clip {clip_value}/{clip_norm} l1 {l1} wd {wd}: max difference {diff:.1e}")
    if worst > 1e-12:
        sys.exit(f"the hand rules differ from torch.optim by {worst:.2e}")
    print("the rules of tests/test-optim.c are torch.optim's")


if __name__ == "__main__":
    main()
