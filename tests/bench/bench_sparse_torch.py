#!/usr/bin/python3
"""PyTorch reference for `prunelab-cli bench sparse --fine-tune`: one masked fine-tuning epoch.

Loads the pruned model that `bench sparse --out FILE` measured (tests/torch/prunelab_torch.py
applies its masks with torch.nn.utils.prune.custom_from_mask, the way PyTorch users fine-tune
a pruned model: a dense weight_orig times a dense weight_mask in every forward), and trains one
epoch of SGD lr 0.01 momentum 0.9, batch 128, on random Fashion-MNIST-shaped data (pixels in
[0, 1], 10 classes, the same count as PruneLab's side). The median seconds of the timed epochs
after a warm-up epoch, in a process with OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1), as
PruneLab's side runs on one thread. Prints one JSON object.

A benchmark tool only: nothing in the test suite imports torch.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "torch"))
import prunelab_torch as pt  # noqa: E402
from bench_train_torch import blas_core  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(7)
    model = pt.load_mlp(args.model).train()
    n_in = model.sizes[0]
    x = torch.rand(args.samples, n_in, generator=gen)
    y = torch.randint(0, model.sizes[-1], (args.samples,), generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    kept = sum(int(layer.weight_mask.sum()) for layer in model.layers if hasattr(layer, "weight_mask"))
    total = sum(layer.weight.numel() for layer in model.layers)
    seconds = []
    for r in range(args.repeats + 1):
        perm = torch.randperm(args.samples, generator=gen)
        t0 = time.perf_counter()
        for start in range(0, args.samples, args.batch):
            idx = perm[start:start + args.batch]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        if r > 0:  # the first epoch warms up
            seconds.append(time.perf_counter() - t0)
    print(json.dumps({
        "arch": model.arch,
        "sparsity": 1 - kept / total,
        "samples": args.samples,
        "batch": args.batch,
        "epoch_seconds": statistics.median(seconds),
        "torch": torch.__version__,
        "blas_core": blas_core(),
    }))


if __name__ == "__main__":
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
