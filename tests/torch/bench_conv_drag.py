#!/usr/bin/python3
"""PyTorch's side of `prunelab-cli bench drag --arch lenet5`: prune + forward per drag position.

  bench_conv_drag.py --model MODEL.safetensors [--data-dir DIR] [--samples N]
                     [--positions 100] [--threads 1,2]

The conv net of MODEL (PruneLab's layout, loaded as conv_interop.py does) at the same drag
positions as the C benchmark — `positions` sparsities 0 → 99 % over the first half and back —
each torch.nn.utils.prune.global_unstructured (L1Unstructured, every Conv2d and Linear weight)
on a fresh copy of the dense weights, then a forward pass (no_grad, chunks of 1000) over the
first N test images of Fashion-MNIST with the loss and accuracy; two passes, the second timed;
median and 95th percentile ms per position as JSON. Each thread count runs in a fresh process
with OPENBLAS_NUM_THREADS set; for N threads the faster of "torch N, OpenBLAS 1" and "torch 1,
OpenBLAS N" is reported. A benchmark tool only: nothing in the test suite imports torch. Run
with /usr/bin/python3 (Debian's python3-torch).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conv_interop as ci  # noqa: E402
import prunelab_torch as pt  # noqa: E402


def levels(positions):
    half = positions // 2
    out = [0.99 * i / max(half - 1, 1) for i in range(half)]
    out += [0.99 * (positions - 1 - i) / max(positions - half - 1, 1) for i in range(half, positions)]
    return out


def run_one(args):
    torch.set_num_threads(int(args.one.split(",")[0]))
    model, shape, _ = ci.load(args.model)
    params = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = pt.load_fashion_mnist(args.data_dir, "test")
    x, y = x[:args.samples].reshape(-1, *shape).contiguous(), y[:args.samples]

    def prune_to(amount):
        for m in params:
            if prune.is_pruned(m):
                prune.remove(m, "weight")
        model.load_state_dict(state)
        prune.global_unstructured([(m, "weight") for m in params],
                                  pruning_method=prune.L1Unstructured, amount=amount)

    times, accuracy = [], None
    for rep in range(2):  # the first pass warms up
        times = []
        for s in levels(args.positions):
            t0 = time.perf_counter()
            prune_to(s)
            correct, loss = 0, 0.0
            with torch.no_grad():
                for start in range(0, len(x), 1000):
                    logits = model(x[start:start + 1000])
                    loss += F.cross_entropy(logits, y[start:start + 1000], reduction="sum").item()
                    correct += int((logits.argmax(1) == y[start:start + 1000]).sum())
            times.append((time.perf_counter() - t0) * 1e3)
            if rep == 0 and s == 0.0 and accuracy is None:
                accuracy = correct / len(x)
    times.sort()
    return {"median_ms": statistics.median(times), "dense_accuracy": accuracy,
            "p95_ms": times[min(len(times) - 1, int(0.95 * len(times) + 0.999) - 1)]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data-dir", default=ci.DEFAULT_DATA_DIR)
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--positions", type=int, default=100)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:
        print(json.dumps(run_one(args)))
        return

    runs = []
    for threads in (int(t) for t in args.threads.split(",")):
        configs = [(1, 1)] if threads == 1 else [(threads, 1), (1, threads)]
        measured = []
        for tt, bt in configs:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(bt))
            out = subprocess.run([sys.executable, __file__, "--model", args.model, "--data-dir", args.data_dir,
                                  "--samples", str(args.samples), "--positions", str(args.positions),
                                  "--one", f"{tt},{bt}"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            measured.append(dict(json.loads(out), torch_threads=tt, blas_threads=bt))
        best = min(measured, key=lambda m: m["median_ms"])
        runs.append(dict(best, threads=threads, configurations=measured))
    print(json.dumps({"command": "torch bench conv drag", "torch": torch.__version__,
                      "blas_core": ci.blas_core(), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
