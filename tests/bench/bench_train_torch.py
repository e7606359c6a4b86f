#!/usr/bin/python3
"""PyTorch reference for `prunelab-cli bench train`: the same training step, side by side.

784-300-100-10 ReLU MLP, softmax cross-entropy, SGD lr 0.01 momentum 0.9, batch 128, random
Fashion-MNIST-shaped data (pixels in [0, 1], 10 classes), one warm-up round, then the median
samples/s of the timed rounds, for each thread count. PyTorch from Debian (python3-torch) runs
on the system BLAS, so both sides use the same OpenBLAS. Prints one JSON object.

A benchmark tool only: nothing in the test suite imports torch.
"""
import argparse
import json
import statistics
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="784-300-100-10")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()

    sizes = [int(s) for s in args.arch.split("-")]
    gen = torch.Generator().manual_seed(7)
    n = args.steps * args.batch
    x = torch.rand(n, sizes[0], generator=gen)
    y = torch.randint(0, sizes[-1], (n,), generator=gen)

    runs = []
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        model = MLP(sizes)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
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
        runs.append({"threads": threads, "samples_per_second": statistics.median(rates)})

    print(json.dumps({"command": "torch bench train", "torch": torch.__version__,
                      "arch": args.arch, "batch": args.batch, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
