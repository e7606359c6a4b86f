#!/usr/bin/python3
"""Regenerates tests/data/st-torch-small.safetensors, a file written by PyTorch.

A 2-8-3 MLP (torch.manual_seed(FIXTURE_SEED)), pruned with prune.global_unstructured
(L1Unstructured, 25 %), saved as its raw state_dict: layers.{i}.weight_orig,
layers.{i}.weight_mask and layers.{i}.bias, as torch.nn.utils.prune leaves them. The metadata
carry no arch or activation, so PruneLab must infer both (ReLU by default). The metadata
"fixture" and "version" identify the file; test-safetensors.c checks them.

Prints the C constants that tests/test-safetensors.c holds: effective weights (orig × mask),
biases, the number of pruned weights and the logits of a few inputs.

  /usr/bin/python3 tests/torch/make_fixture.py [OUT]
"""

import os
import sys

import torch
from torch.nn.utils import prune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prunelab_torch as pt  # noqa: E402

FIXTURE_SEED = 20240611
FIXTURE_VERSION = "1"
INPUTS = [[0.5, -1.0], [2.0, 0.25], [-0.75, -0.5]]


def c_float(v):
    text = f"{float(v):.9g}"  # 9 significant digits give a float32 back exactly
    if not any(c in text for c in ".e"):
        text += ".0"
    return text + "f"


def c_floats(values):
    return ", ".join(c_float(v) for v in values)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data",
                                                            "st-torch-small.safetensors")
    torch.manual_seed(FIXTURE_SEED)
    model = pt.MLP([2, 8, 3], "relu")
    prune.global_unstructured([(layer, "weight") for layer in model.layers],
                              pruning_method=prune.L1Unstructured, amount=0.25)
    state = model.state_dict()
    pt.save_safetensors(out, dict(state), {"format": "pt", "fixture": "st-torch-small",
                                           "version": FIXTURE_VERSION})

    # The file must read back to the same model.
    again = pt.load_mlp(out)
    x = torch.tensor(INPUTS)
    with torch.no_grad():
        logits = model(x)
        assert torch.equal(logits, again(x))

    n_pruned = sum(int((layer.weight_mask == 0).sum()) for layer in model.layers)
    print(f"/* {os.path.basename(out)}: tensors {', '.join(state.keys())} */")
    print(f"#define TORCH_FIXTURE_VERSION \"{FIXTURE_VERSION}\"")
    print(f"#define TORCH_FIXTURE_N_PRUNED {n_pruned}")
    for i, layer in enumerate(model.layers):
        print(f"static const float torch_w{i}[] = {{ {c_floats(layer.weight.flatten())} }};")
        print(f"static const float torch_b{i}[] = {{ {c_floats(layer.bias)} }};")
    print("static const float torch_inputs[][2] = { "
          + ", ".join(f"{{ {c_floats(r)} }}" for r in INPUTS) + " };")
    print("static const float torch_logits[][3] = { "
          + ", ".join(f"{{ {c_floats(r)} }}" for r in logits) + " };")


if __name__ == "__main__":
    main()
