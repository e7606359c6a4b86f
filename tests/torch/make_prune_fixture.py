#!/usr/bin/python3
"""Regenerates the fixtures of tests/test-prune.c that pin PruneLab's selection to PyTorch's.

A 11-7-9-5 MLP (torch.manual_seed(FIXTURE_SEED), PyTorch's default Linear initialisation,
no two weights of equal magnitude) is written three times under tests/data/, each file one
that pl_safetensors_load reads:

  prune-torch-model.safetensors   layers.{i}.weight and layers.{i}.bias, unpruned
  prune-torch-global.safetensors  the state_dict after
                                  prune.global_unstructured(..., prune.L1Unstructured,
                                  amount=GLOBAL_AMOUNT): layers.{i}.weight_orig,
                                  layers.{i}.weight_mask, layers.{i}.bias
  prune-torch-layer.safetensors   the state_dict after prune.l1_unstructured on each layer with
                                  LAYER_AMOUNTS

The C test prunes the first file with magnitude scores and requires the masks of the other two
exactly. The layer sizes make round(amount · n) land on halves (0.5 · 77 = 38.5 and
0.9 · 45 = 40.5), which torch rounds to even (Python's round): 38 and 40. Every file carries
the metadata "fixture" (its name) and "version" (FIXTURE_VERSION), which the test checks.

  /usr/bin/python3 tests/torch/make_prune_fixture.py [OUT_DIR]
"""

import os
import sys

import torch
from torch.nn.utils import prune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prunelab_torch as pt  # noqa: E402

FIXTURE_SEED = 20240612
FIXTURE_VERSION = "1"
SIZES = [11, 7, 9, 5]
GLOBAL_AMOUNT = 0.37
LAYER_AMOUNTS = [0.5, 0.2, 0.9]


def fresh_model():
    torch.manual_seed(FIXTURE_SEED)
    return pt.MLP(SIZES, "relu")


def save(out_dir, name, model, extra):
    metadata = {"format": "pt", "fixture": name, "version": FIXTURE_VERSION}
    metadata.update(extra)
    path = os.path.join(out_dir, name + ".safetensors")
    pt.save_safetensors(path, dict(model.state_dict()), metadata)
    return path


def n_pruned(model):
    return [int((layer.weight_mask == 0).sum()) for layer in model.layers]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data")

    model = fresh_model()
    magnitudes = torch.cat([layer.weight.detach().abs().flatten() for layer in model.layers])
    if len(set(magnitudes.tolist())) != magnitudes.numel():
        raise SystemExit("two weights have the same magnitude: choose another FIXTURE_SEED")
    save(out_dir, "prune-torch-model", model, {})

    model = fresh_model()
    prune.global_unstructured([(layer, "weight") for layer in model.layers],
                              pruning_method=prune.L1Unstructured, amount=GLOBAL_AMOUNT)
    path = save(out_dir, "prune-torch-global", model, {"amount": str(GLOBAL_AMOUNT)})
    print(f"{os.path.normpath(path)}: pruned per layer {n_pruned(model)}")

    model = fresh_model()
    for layer, amount in zip(model.layers, LAYER_AMOUNTS):
        prune.l1_unstructured(layer, "weight", amount=amount)
    path = save(out_dir, "prune-torch-layer", model,
                {"amount": ",".join(str(a) for a in LAYER_AMOUNTS)})
    print(f"{os.path.normpath(path)}: pruned per layer {n_pruned(model)}")


if __name__ == "__main__":
    main()
