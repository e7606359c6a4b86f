#!/usr/bin/python3
"""PruneLab <-> PyTorch interop checks.

  interop.py eval MODEL.safetensors [--data-dir DIR]
      test accuracy and loss in PyTorch, as JSON
  interop.py export OUT.safetensors --arch 784-300-100-10 [--activation relu] [--seed N]
                    [--train-epochs N] [--prune 0.5] [--data-dir DIR]
      a PyTorch-initialised (optionally trained, optionally globally L1-pruned) model in
      PruneLab's layout: weight (already masked), bias, weight_mask
  interop.py forward MODEL.safetensors --inputs IN.f32 --outputs OUT.f32
      logits for raw little-endian float32 inputs (n, n_in), written the same way

Run with /usr/bin/python3 (Debian's python3-torch). Inputs are pixels / 255, no
standardisation.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from torch.nn import functional as F
from torch.nn.utils import prune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prunelab_torch as pt  # noqa: E402

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"


def cmd_eval(args):
    model = pt.load_mlp(args.model)
    x, y = pt.load_fashion_mnist(args.data_dir, "test")
    if model.sizes[0] != x.shape[1]:
        sys.exit(f"{args.model}: {model.sizes[0]} inputs, the data have {x.shape[1]}")
    correct, loss = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), 1000):
            logits = model(x[start:start + 1000])
            target = y[start:start + 1000]
            loss += F.cross_entropy(logits, target, reduction="sum").item()
            correct += int((logits.argmax(1) == target).sum())
    n_weights = sum(layer.weight.numel() for layer in model.layers)
    n_pruned = sum(int((layer.weight == 0).sum()) for layer in model.layers)
    print(json.dumps({
        "test_accuracy": correct / len(x),
        "test_loss": loss / len(x),
        "n": len(x),
        "arch": model.arch,
        "activation": model.activation,
        "sparsity": n_pruned / n_weights,
    }))


def cmd_export(args):
    torch.manual_seed(args.seed)
    model = pt.MLP(pt.parse_arch(args.arch), args.activation)
    if args.train_epochs > 0:
        x, y = pt.load_fashion_mnist(args.data_dir, "train")
        if model.sizes[0] != x.shape[1] or model.sizes[-1] != 10:
            sys.exit(f"--arch {args.arch}: training needs 784 inputs and 10 outputs")
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        gen = torch.Generator().manual_seed(args.seed)
        for _ in range(args.train_epochs):
            order = torch.randperm(len(x), generator=gen)
            for start in range(0, len(x), args.batch_size):
                idx = order[start:start + args.batch_size]
                opt.zero_grad()
                F.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
    if args.prune > 0:
        prune.global_unstructured([(layer, "weight") for layer in model.layers],
                                  pruning_method=prune.L1Unstructured, amount=args.prune)
    pt.save_safetensors(args.out, pt.prunelab_tensors(model), pt.prunelab_metadata(model))
    n_weights = sum(layer.weight.numel() for layer in model.layers)
    n_pruned = sum(int((layer.weight == 0).sum()) for layer in model.layers)
    print(json.dumps({"out": args.out, "arch": model.arch, "n_pruned": n_pruned,
                      "n_weights": n_weights}))


def cmd_forward(args):
    model = pt.load_mlp(args.model)
    x = torch.from_numpy(np.fromfile(args.inputs, dtype="<f4").reshape(-1, model.sizes[0]))
    with torch.no_grad():
        out = model(x)
    out.numpy().astype("<f4").tofile(args.outputs)
    print(json.dumps({"n": len(x), "arch": model.arch, "activation": model.activation}))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("eval", help="test accuracy and loss in PyTorch")
    p.add_argument("model")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("export", help="write a PyTorch model in PruneLab's layout")
    p.add_argument("out")
    p.add_argument("--arch", default="784-300-100-10")
    p.add_argument("--activation", default="relu", choices=sorted(pt.ACTIVATIONS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prune", type=float, default=0.0, help="global L1 sparsity, 0..1")
    p.add_argument("--train-epochs", type=int, default=0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("forward", help="logits for raw float32 inputs")
    p.add_argument("model")
    p.add_argument("--inputs", required=True)
    p.add_argument("--outputs", required=True)
    p.set_defaults(func=cmd_forward)

    args = parser.parse_args()
    if getattr(args, "prune", 0) and not 0 <= args.prune < 1:
        parser.error("--prune takes a fraction in [0, 1)")
    try:
        args.func(args)
    except (pt.SafetensorsError, OSError, ValueError) as e:
        sys.exit(f"interop.py: {e}")


if __name__ == "__main__":
    main()
