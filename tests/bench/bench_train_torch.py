#!/usr/bin/python3
"""PyTorch reference for `prunelab-cli bench train`: the same training step, side by side.

784-300-100-10 ReLU MLP, softmax cross-entropy, SGD lr 0.01 momentum 0.9, batch 128, random
Fashion-MNIST-shaped data (pixels in [0, 1], 10 classes), one warm-up round, then the median
samples/s of the timed rounds, for each thread count. PyTorch from Debian (python3-torch) runs
on the system BLAS, so both sides use the same OpenBLAS. Prints one JSON object.

Thread counts: PyTorch's own threads (torch.set_num_threads) do not reach OpenBLAS, whose
pthread pool defaults to every core; left alone, "1 thread" PyTorch runs OpenBLAS on all cores.
Each configuration therefore runs in a fresh process with OPENBLAS_NUM_THREADS set, and for N
threads the faster of "torch N, OpenBLAS 1" and "torch 1, OpenBLAS N" is reported, as each is
a way to use N cores.

A benchmark tool only: nothing in the test suite imports torch.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F


class MLP(torch.nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def blas_core():
    """OpenBLAS's core name, from the copy loaded with torch."""
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            pass
    return "not OpenBLAS"


def measure(sizes, x, y, args, gen):
    torch.manual_seed(1)
    model = MLP(sizes)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n = x.shape[0]
    rates = []
    for r in range(args.repeats + 1):
        perm = torch.randperm(n, generator=gen)
        t0 = time.perf_counter()
        for start in range(0, n, args.batch):
            idx = perm[start:start + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - t0
        if r > 0:  # the first round warms up
            rates.append(n / seconds)
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="784-300-100-10")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--one", metavar="TORCH,BLAS", help=argparse.SUPPRESS)
    args = ap.parse_args()

    sizes = [int(s) for s in args.arch.split("-")]
    gen = torch.Generator().manual_seed(7)
    n = args.steps * args.batch
    x = torch.rand(n, sizes[0], generator=gen)
    y = torch.randint(0, sizes[-1], (n,), generator=gen)

    if args.one:  # one configuration, in this process (OPENBLAS_NUM_THREADS set by the parent)
        torch.set_num_threads(int(args.one.split(",")[0]))
        print(measure(sizes, x, y, args, gen))
        return

    runs = []
    for threads in (int(t) for t in args.threads.split(",")):
        configs = [(1, 1)] if threads == 1 else [(threads, 1), (1, threads)]
        measured = []
        for torch_threads, blas_threads in configs:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(blas_threads))
            out = subprocess.run([sys.executable, __file__, "--arch", args.arch,
                                  "--batch", str(args.batch), "--steps", str(args.steps),
                                  "--repeats", str(args.repeats),
                                  "--one", f"{torch_threads},{blas_threads}"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            measured.append({"torch_threads": torch_threads, "blas_threads": blas_threads,
                             "samples_per_second": float(out)})
        best = max(measured, key=lambda m: m["samples_per_second"])
        runs.append({"threads": threads, "samples_per_second": best["samples_per_second"],
                     "configurations": measured})

    print(json.dumps({"command": "torch bench train", "torch": torch.__version__,
                      "blas_core": blas_core(),
                      "arch": args.arch, "batch": args.batch, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
