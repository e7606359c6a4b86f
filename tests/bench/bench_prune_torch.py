#!/usr/bin/python3
"""PyTorch references for `prunelab-cli bench drag` and `prunelab-cli sweep`, side by side.

drag:  100 positions across 0–99% global magnitude sparsity and back on a 784-300-100-10 ReLU
       MLP, each torch.nn.utils.prune.global_unstructured (L1Unstructured) on a fresh copy of the
       weights plus a forward pass over 10,000 evaluation samples; median and 95th percentile ms.
sweep: 24 sparsity levels of global magnitude pruning without fine-tuning, the same loop; the
       median of three timed sweeps after one that warms up.

The same model initialisation rule and random Fashion-MNIST-shaped data as the C benchmark
(the timings do not depend on the values). Each thread configuration runs in a fresh process
with OPENBLAS_NUM_THREADS set (torch.set_num_threads does not reach OpenBLAS's own pool);
for N threads the faster of "torch N, OpenBLAS 1" and "torch 1, OpenBLAS N" is reported.
A benchmark tool only: nothing in the test suite imports torch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
import torch.nn.utils.prune as prune


class MLP(torch.nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def evaluate(model, x, y):
    with torch.no_grad():
        logits = model(x)
        return (logits.argmax(1) == y).float().mean().item(), F.cross_entropy(logits, y).item()


def prune_to(model, state, amount):
    """A fresh copy of the dense weights, then global magnitude pruning to @amount."""
    for layer in model.layers:
        if prune.is_pruned(layer):
            prune.remove(layer, "weight")
    model.load_state_dict(state)
    params = [(layer, "weight") for layer in model.layers]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)


def run_one(args):
    torch.set_num_threads(int(args.one.split(",")[0]))
    sizes = [784, 300, 100, 10]
    gen = torch.Generator().manual_seed(11)
    x = torch.rand(args.samples, sizes[0], generator=gen)
    y = torch.randint(0, sizes[-1], (args.samples,), generator=gen)
    torch.manual_seed(1)
    model = MLP(sizes)
    state = {k: v.clone() for k, v in model.state_dict().items()}

    if args.what == "drag":
        half = args.positions // 2
        levels = [0.99 * i / (half - 1) for i in range(half)]
        levels += [0.99 * (args.positions - 1 - i) / (args.positions - half - 1)
                   for i in range(half, args.positions)]
        times = []
        for _ in range(2):  # the first pass warms up
            times = []
            for s in levels:
                t0 = time.perf_counter()
                prune_to(model, state, s)
                evaluate(model, x, y)
                times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        return {"median_ms": statistics.median(times),
                "p95_ms": times[min(len(times) - 1, int(0.95 * len(times) + 0.999) - 1)]}

    levels = [0.0] + [1 - (1 - 0.99) ** (i / (args.points - 1)) for i in range(1, args.points)]
    times = []
    for _ in range(1 + args.repeat):  # the first pass warms up
        t0 = time.perf_counter()
        for s in levels:
            prune_to(model, state, s)
            evaluate(model, x, y)
        times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times[1:]), "passes": times[1:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["drag", "sweep"])
    ap.add_argument("--threads", default="2")
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--positions", type=int, default=100)
    ap.add_argument("--points", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3, help="timed sweeps, after one to warm up")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:
        print(json.dumps(run_one(args)))
        return

    runs = []
    key = "median_ms" if args.what == "drag" else "seconds"
    for threads in (int(t) for t in args.threads.split(",")):
        configs = [(1, 1)] if threads == 1 else [(threads, 1), (1, threads)]
        measured = []
        for tt, bt in configs:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(bt))
            out = subprocess.run([sys.executable, __file__, args.what, "--samples", str(args.samples),
                                  "--positions", str(args.positions), "--points", str(args.points), "--repeat", str(args.repeat),
                                  "--one", f"{tt},{bt}"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            measured.append(dict(json.loads(out), torch_threads=tt, blas_threads=bt))
        best = min(measured, key=lambda m: m[key])
        runs.append(dict(best, threads=threads, configurations=measured))
    print(json.dumps({"command": f"torch bench {args.what}", "torch": torch.__version__,
                      "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
