#!/usr/bin/python3
"""PruneLab <-> PyTorch for convolutional networks (LeNet-5 and the like).

  conv_interop.py eval MODEL.safetensors [--data-dir DIR]
      builds the file's architecture as a torch.nn.Sequential, loads layers.i into its i-th
      parametrised module (Conv2d weight [out, in, kh, kw], Linear [out, in]; weight_mask
      multiplied in), and prints the test accuracy and loss as JSON
  conv_interop.py compare SMALL.safetensors MASKED.safetensors [--data-dir DIR]
      a compacted network (prunelab-cli prune --structured --compact) against the masked one it
      came from: SMALL must build as a smaller nn.Sequential (fewer Conv2d channels, no
      weight_mask), and both must give the same test accuracy and logits to 1e-4 relative;
      prints both as JSON, exits 1 on a mismatch
  conv_interop.py export OUT.safetensors [--arch lenet5] [--activation relu] [--seed N]
                         [--train-epochs N] [--max-train N] [--data-dir DIR]
      a PyTorch-initialised (optionally trained) network in PruneLab's layout
  conv_interop.py bench [--arch lenet5] [--epochs 1] [--threads 1] [--seed N]
      the issue's recipe in PyTorch (SGD 0.05, momentum 0.9, batch 128) on the first 55,000
      training images as PruneLab trains on them (its validation split aside), with
      torch.set_num_threads; prints test accuracy, training samples/s and
      openblas_get_corename() as JSON, and the median of 21 single steps (forward, loss,
      backward at batch 128; --epochs 0 for those alone), the figure of tests/bench-conv

Run with /usr/bin/python3 (Debian's python3-torch). Inputs are pixels / 255, as PruneLab's.
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prunelab_torch as pt  # noqa: E402

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
LENET5 = "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10"
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def build(arch, activation):
    """(nn.Sequential, input shape, parametrised modules in order) of a PruneLab spec."""
    if arch == "lenet5":
        arch = LENET5
    parts = arch.split("-")
    c, h, w = (int(v) for v in parts[0].split("x"))
    shape = (c, h, w)
    modules, params = [], []
    dense = [p for p in parts[1:] if p[0].isdigit()]
    for p in parts[1:]:
        if p[0] == "c":
            n, rest = p[1:].split("k")
            k, pad = (rest.split("p") + ["0"])[:2]
            conv = nn.Conv2d(c, int(n), int(k), padding=int(pad))
            modules += [conv, ACTIVATIONS[activation]()]
            params.append(conv)
            c, h, w = int(n), h + 2 * int(pad) - int(k) + 1, w + 2 * int(pad) - int(k) + 1
        elif p[0] == "m":
            modules.append(nn.MaxPool2d(int(p[1:])))
            h, w = h // int(p[1:]), w // int(p[1:])
    modules.append(nn.Flatten())
    n_in = c * h * w
    for i, d in enumerate(dense):
        linear = nn.Linear(n_in, int(d))
        modules.append(linear)
        params.append(linear)
        if i + 1 < len(dense):
            modules.append(ACTIVATIONS[activation]())
        n_in = int(d)
    return nn.Sequential(*modules), shape, params


def load(path):
    tensors, meta = pt.load_safetensors(path)
    if "arch" not in meta or "x" not in meta["arch"].split("-")[0]:
        sys.exit(f"{path}: no convolutional architecture in the metadata")
    model, shape, params = build(meta["arch"], meta.get("activation", "relu"))
    with torch.no_grad():
        for i, m in enumerate(params):
            w = tensors[f"layers.{i}.weight"]
            if tuple(w.shape) != tuple(m.weight.shape):
                sys.exit(f"{path}: layers.{i}.weight is {tuple(w.shape)}, not {tuple(m.weight.shape)}")
            mask = tensors.get(f"layers.{i}.weight_mask")
            m.weight.copy_(w * mask if mask is not None else w)
            m.bias.copy_(tensors[f"layers.{i}.bias"])
    if f"layers.{len(params)}.weight" in tensors:
        sys.exit(f"{path}: more parametrised layers than the architecture has")
    return model.eval(), shape, meta


def evaluate(model, shape, x, y):
    correct, loss = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), 1000):
            logits = model(x[start:start + 1000].reshape(-1, *shape))
            target = y[start:start + 1000]
            loss += F.cross_entropy(logits, target, reduction="sum").item()
            correct += int((logits.argmax(1) == target).sum())
    return correct / len(x), loss / len(x)


def train(model, shape, x, y, epochs, seed):
    """SGD 0.05, momentum 0.9, batch 128, as issue 17's recipe; returns training samples/s."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    seen, seconds = 0, 0.0
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        t0 = time.perf_counter()
        for start in range(0, len(x), 128):
            idx = order[start:start + 128]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx].reshape(-1, *shape)), y[idx])
            loss.backward()
            opt.step()
            seen += len(idx)
        seconds += time.perf_counter() - t0
    model.eval()
    return seen / seconds


def prunelab_tensors(params):
    out = {}
    for i, m in enumerate(params):
        out[f"layers.{i}.weight"] = m.weight.detach().contiguous()
        out[f"layers.{i}.bias"] = m.bias.detach().contiguous()
    return out


def blas_core():
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return "unknown"


def cmd_eval(args):
    model, shape, meta = load(args.model)
    x, y = pt.load_fashion_mnist(args.data_dir, "test")
    acc, loss = evaluate(model, shape, x, y)
    print(json.dumps({"test_accuracy": acc, "test_loss": loss, "n": len(x), "arch": meta["arch"]}))


def logits(model, shape, x):
    with torch.no_grad():
        return torch.cat([model(x[s:s + 1000].reshape(-1, *shape)) for s in range(0, len(x), 1000)])


def cmd_compare(args):
    small, shape, meta = load(args.small)
    masked, shape_m, meta_m = load(args.masked)
    tensors, _ = pt.load_safetensors(args.small)
    x, y = pt.load_fashion_mnist(args.data_dir, "test")
    ls, lm = logits(small, shape, x), logits(masked, shape_m, x)
    acc_s = float((ls.argmax(1) == y).float().mean())
    acc_m = float((lm.argmax(1) == y).float().mean())
    convs = [m for m in small if isinstance(m, nn.Conv2d)]
    convs_m = [m for m in masked if isinstance(m, nn.Conv2d)]
    fewer = (len(convs) == len(convs_m)
             and all(a.out_channels <= b.out_channels for a, b in zip(convs, convs_m))
             and any(a.out_channels < b.out_channels for a, b in zip(convs, convs_m)))
    no_masks = not any(k.endswith("weight_mask") for k in tensors)
    err = float(((ls - lm).abs() / (1 + lm.abs())).max())
    ok = fewer and no_masks and acc_s == acc_m and err <= 1e-4
    print(json.dumps({"ok": ok, "arch": meta["arch"], "masked_arch": meta_m["arch"],
                      "smaller": fewer, "no_masks": no_masks, "test_accuracy": acc_s,
                      "masked_test_accuracy": acc_m, "max_logit_error": err,
                      "parameters": sum(p.numel() for p in small.parameters()),
                      "masked_parameters": sum(p.numel() for p in masked.parameters())}))
    sys.exit(0 if ok else 1)


def cmd_export(args):
    torch.manual_seed(args.seed)
    model, shape, params = build(args.arch, args.activation)
    if args.train_epochs > 0:
        x, y = pt.load_fashion_mnist(args.data_dir, "train")
        train(model, shape, x[:args.max_train], y[:args.max_train], args.train_epochs, args.seed)
    arch = LENET5 if args.arch == "lenet5" else args.arch
    pt.save_safetensors(args.out, prunelab_tensors(params),
                        {"format": "prunelab", "arch": arch, "activation": args.activation})
    xt, yt = pt.load_fashion_mnist(args.data_dir, "test")
    acc, loss = evaluate(model.eval(), shape, xt, yt)
    print(json.dumps({"test_accuracy": acc, "test_loss": loss}))


def step_ms(model, shape, x, y, repeats=21):
    """Median and minimum of forward + loss + backward at batch 128, as tests/bench-conv times
    PruneLab's pl_conv_forward + pl_conv_backward."""
    times = []
    model.train()
    for r in range(repeats):
        xb, yb = x[128 * r:128 * (r + 1)].reshape(-1, *shape), y[128 * r:128 * (r + 1)]
        t0 = time.perf_counter()
        model.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2], times[0]


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, shape, _ = build(args.arch, args.activation)
    x, y = pt.load_fashion_mnist(args.data_dir, "train")
    xt, yt = pt.load_fashion_mnist(args.data_dir, "test")
    rate = train(model, shape, x[:55000], y[:55000], args.epochs, args.seed) if args.epochs > 0 else 0.0
    acc, _ = evaluate(model, shape, xt, yt)
    median, best = step_ms(model, shape, x, y)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "epochs": args.epochs,
                      "samples_per_second": rate, "test_accuracy": acc,
                      "step_ms_median": median, "step_ms_min": best, "blas_core": blas_core()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval")
    e.add_argument("model")
    e.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    c = sub.add_parser("compare")
    c.add_argument("small")
    c.add_argument("masked")
    c.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    x = sub.add_parser("export")
    x.add_argument("out")
    b = sub.add_parser("bench")
    for p in (x, b):
        p.add_argument("--arch", default="lenet5")
        p.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS))
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    x.add_argument("--train-epochs", type=int, default=0)
    x.add_argument("--max-train", type=int, default=60000)
    b.add_argument("--epochs", type=int, default=1)
    b.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    {"eval": cmd_eval, "compare": cmd_compare, "export": cmd_export, "bench": cmd_bench}[args.cmd](args)


if __name__ == "__main__":
    main()
