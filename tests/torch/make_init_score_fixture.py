#!/usr/bin/python3
"""Regenerates tests/data/init-score-torch.bin, the PyTorch reference of tests/test-score-init.c
for the scores of issue 16: SNIP, GraSP (and its Hessian-gradient product), SynFlow, Wanda and
LAMP.

A 5-8-6-3 ReLU MLP (torch.manual_seed(SEED), PyTorch's default Linear initialisation, every
seventh weight of the first layer pruned to 0) and N_SAMPLES random samples. Everything is
computed in float64 from the float32 parameters, with autograd where the paper differentiates:

  snip     |g * w| / sum |g * w|, g = dL/dw of the mean cross-entropy over the samples
           (Lee et al. 2019, eq. 6)
  grasp-hg Hg over the weights, exactly, of the plain mean cross-entropy (T = 1): z =
           sum_w (g * mask) . grad_w L with the gradient g detached and the first gradient
           taken with create_graph=True, then dz/dw (the authors' code,
           github.com/alecwangcq/GraSP, pruner/GraSP.py)
  grasp-hg-t200  the same with the logits divided by T = 200, as GraSP.py does
  grasp    w * Hg / |sum w * Hg| at T = 200   (eq. 8 with the sign PruneLab keeps: GraSP
                                               removes the largest -w * Hg)
  synflow  every parameter replaced by its absolute value, the biases set to 0 (R of eq. 2 has
           none), R = sum(net(ones)) through the ReLU network, score |dR/dw * w|
           (Tanaka et al. 2020, eq. 2, one round)
  wanda    |W_ij| * ||X_j||_2, X_j the layer's input j over the samples (Sun et al. 2023, eq. 1)
  lamp     the authors' _normalize_scores (github.com/jaeho-lee/layer-adaptive-sparsity):
           w^2 sorted ascending (stable), each divided by the layer total minus the sum before
           it (Lee et al. 2021, eq. 2)

File layout, little-endian:
  char[8]  magic "PLINIT01"; u32 version (FIXTURE_VERSION)
  u32 n_layers; u32 sizes[n_layers + 1]; u32 n_samples; u32 n_classes
  f32 params[n_params]  PruneLab's layout: w0 (out, in) row-major, b0, w1, b1, ...
  f32 masks[n_params]   1 kept, 0 pruned (biases 1)
  f32 x[n_samples * sizes[0]]; u32 y[n_samples]
  u32 n_values, then for each: char[16] name (NUL-padded); u32 count; f64 values[count], every
  layer's weights (out, in) in turn

  /usr/bin/python3 tests/torch/make_init_score_fixture.py [OUT_FILE]
"""

import os
import struct
import sys

import torch

FIXTURE_VERSION = 1
SEED = 20261202
SIZES = [5, 8, 6, 3]
N_SAMPLES = 16


def build():
    torch.manual_seed(SEED)
    layers = [torch.nn.Linear(a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]
    masks = [torch.ones_like(layer.weight) for layer in layers]
    masks[0].view(-1)[::7] = 0.0
    with torch.no_grad():
        layers[0].weight.mul_(masks[0])
    x = torch.randn(N_SAMPLES, SIZES[0])
    y = torch.randint(0, SIZES[-1], (N_SAMPLES,))
    return layers, masks, x, y


def forward(ws, bs, x, keep_inputs=None):
    for i, (w, b) in enumerate(zip(ws, bs)):
        if keep_inputs is not None:
            keep_inputs.append(x)
        x = x @ w.T + b
        if i + 1 < len(ws):
            x = torch.relu(x)
    return x


def values(layers, masks, x, y):
    x = x.double()
    ws = [layer.weight.detach().double().clone().requires_grad_(True) for layer in layers]
    bs = [layer.bias.detach().double().clone() for layer in layers]
    ms = [m.double() for m in masks]
    out = {}

    loss = torch.nn.functional.cross_entropy(forward(ws, bs, x), y)
    g = torch.autograd.grad(loss, ws, create_graph=True)
    snip = [(gi * w).abs().detach() for gi, w in zip(g, ws)]
    total = sum(s.sum() for s in snip)
    out["snip"] = [s / total for s in snip]

    for temperature in (1.0, 200.0):
        loss = torch.nn.functional.cross_entropy(forward(ws, bs, x) / temperature, y)
        g = torch.autograd.grad(loss, ws, create_graph=True)
        z = sum(((gi.detach() * m) * gi).sum() for gi, m in zip(g, ms))
        hg = torch.autograd.grad(z, ws)
        hg = [h * m for h, m in zip(hg, ms)]
        out["grasp-hg" if temperature == 1.0 else "grasp-hg-t200"] = hg
    grasp = [w.detach() * h for w, h in zip(ws, hg)]
    total = sum(s.sum() for s in grasp).abs()
    out["grasp"] = [s / total for s in grasp]

    aw = [w.detach().abs().clone().requires_grad_(True) for w in ws]
    zb = [torch.zeros_like(b) for b in bs]
    r = forward(aw, zb, torch.ones(1, SIZES[0], dtype=torch.float64)).sum()
    gr = torch.autograd.grad(r, aw)
    out["synflow"] = [(gi * w).abs() for gi, w in zip(gr, aw)]

    inputs = []
    with torch.no_grad():
        forward([w.detach() for w in ws], bs, x, inputs)
    out["wanda"] = [w.detach().abs() * inp.norm(dim=0)[None, :] for w, inp in zip(ws, inputs)]

    lamp = []
    for w in ws:
        sq = (w.detach() ** 2).flatten()
        sorted_sq, idx = sq.sort(descending=False, stable=True)
        before = torch.zeros_like(sorted_sq)
        before[1:] = sorted_sq.cumsum(0)[:-1]
        denom = sq.sum() - before
        norm = torch.where(denom > 0, sorted_sq / denom, torch.zeros_like(denom))
        res = torch.zeros_like(sq)
        res[idx] = norm
        lamp.append(res.view_as(w))
    out["lamp"] = lamp
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data",
                                                               "init-score-torch.bin")
    layers, masks, x, y = build()
    vals = values(layers, masks, x, y)

    data = bytearray(b"PLINIT01")
    data += struct.pack("<I", FIXTURE_VERSION)
    data += struct.pack("<I", len(layers))
    data += struct.pack(f"<{len(SIZES)}I", *SIZES)
    data += struct.pack("<II", N_SAMPLES, SIZES[-1])
    params = []
    mask_values = []
    for layer, mask in zip(layers, masks):
        params += layer.weight.detach().flatten().tolist() + layer.bias.detach().tolist()
        mask_values += mask.flatten().tolist() + [1.0] * layer.bias.numel()
    data += struct.pack(f"<{len(params)}f", *params)
    data += struct.pack(f"<{len(mask_values)}f", *mask_values)
    data += struct.pack(f"<{x.numel()}f", *x.flatten().tolist())
    data += struct.pack(f"<{N_SAMPLES}I", *y.tolist())
    data += struct.pack("<I", len(vals))
    for name, per_layer in vals.items():
        flat = torch.cat([t.flatten() for t in per_layer]).tolist()
        data += name.encode().ljust(16, b"\0")
        data += struct.pack(f"<I{len(flat)}d", len(flat), *flat)

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    print(f"{os.path.normpath(path)}: {len(data)} bytes")


if __name__ == "__main__":
    main()
