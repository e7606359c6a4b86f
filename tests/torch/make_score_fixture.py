#!/usr/bin/python3
"""Regenerates tests/data/score-torch.bin, the PyTorch reference of tests/test-score.c for the
scores built on per-sample gradients and per-neuron histograms.

A 6-9-7-4 MLP (torch.manual_seed(FIXTURE_SEED), PyTorch's default Linear initialisation, tanh,
every fifth weight of the first layer pruned to 0) and N_SAMPLES random samples. Each sample s is
run through the network ALONE, its cross-entropy L_s backpropagated with autograd (the hidden
outputs' .grad kept with retain_grad), and the scores are computed from those per-sample
gradients in float64 exactly as PruneLab documents them:

  gradient       mean_s |dL_s/dw|
  taylor         mean_s |w * dL_s/dw|                      (Molchanov et al. 2017, eq. 7, per
                                                            example then averaged)
  fisher         0.5 * w^2 * mean_s (dL_s/dw)^2            (OBD with the empirical Fisher)
  neuron-taylor  T_j = mean_s |a_sj * dL_s/da_sj|, then T_j / sqrt(sum_k T_k^2) per layer
                                                           (Molchanov et al. 2017, eq. 7-8, §2.3)
  entropy        torch.histc of each neuron's activations into ENTROPY_BINS bins over that
                 neuron's own [min, max], -sum p log2 p   (Luo & Wu 2017, eq. 1)

The seed is chosen so that no activation lies within 1e-3 of a histogram bin edge (apart from the
minimum and maximum themselves): PruneLab's float forward pass differs from PyTorch's by ~1e-7,
which must not move a sample to the next bin.

File layout, little-endian:
  char[8]  magic "PLSCORE1"; u32 version (FIXTURE_VERSION)
  u32 activation (0 relu, 1 tanh, 2 sigmoid); u32 n_layers; u32 sizes[n_layers + 1]
  u32 n_samples; u32 n_classes; u32 entropy_bins
  f32 params[n_params]  PruneLab's layout: w0 (out, in) row-major, b0, w1, b1, ...
  f32 masks[n_params]   1 kept, 0 pruned (biases 1)
  f32 x[n_samples * sizes[0]]; u32 y[n_samples]
  u32 n_scores, then for each: char[16] name (NUL-padded); u32 count; f64 values[count] in the
  layout of PlScores (weight scores: every layer's (out, in) in turn; neuron scores: every
  hidden layer's neurons in turn)

  /usr/bin/python3 tests/torch/make_score_fixture.py [OUT_FILE]
"""

import math
import os
import struct
import sys

import torch

FIXTURE_VERSION = 1
FIRST_SEED = 20240701
SIZES = [6, 9, 7, 4]
ACTIVATION = "tanh"
N_SAMPLES = 37
ENTROPY_BINS = 5
EDGE_MARGIN = 1e-3

ACTIVATIONS = {"relu": (0, torch.relu), "tanh": (1, torch.tanh), "sigmoid": (2, torch.sigmoid)}


def build(seed):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]
    masks = [torch.ones_like(layer.weight) for layer in layers]
    masks[0].view(-1)[::5] = 0.0
    with torch.no_grad():
        layers[0].weight.mul_(masks[0])
    x = torch.randn(N_SAMPLES, SIZES[0])
    y = torch.randint(0, SIZES[-1], (N_SAMPLES,))
    return layers, masks, x, y


def forward(layers, x):
    """Returns the logits and the hidden outputs (each retaining its gradient)."""
    act = ACTIVATIONS[ACTIVATION][1]
    hidden = []
    for i, layer in enumerate(layers):
        x = layer(x)
        if i + 1 < len(layers):
            x = act(x)
            x.retain_grad()
            hidden.append(x)
    return x, hidden


def scores(layers, x, y):
    weights = [layer.weight for layer in layers]
    sum_abs = [torch.zeros_like(w, dtype=torch.float64) for w in weights]
    sum_sq = [torch.zeros_like(w, dtype=torch.float64) for w in weights]
    sum_taylor = [torch.zeros_like(w, dtype=torch.float64) for w in weights]
    sum_neuron = [torch.zeros(n, dtype=torch.float64) for n in SIZES[1:-1]]
    activations = [[] for _ in SIZES[1:-1]]

    for s in range(N_SAMPLES):
        for layer in layers:
            layer.zero_grad()
        logits, hidden = forward(layers, x[s:s + 1])
        loss = torch.nn.functional.cross_entropy(logits, y[s:s + 1], reduction="sum")
        loss.backward()
        for i, w in enumerate(weights):
            g = w.grad.double()
            sum_abs[i] += g.abs()
            sum_sq[i] += g * g
            sum_taylor[i] += (w.detach().double() * g).abs()
        for i, a in enumerate(hidden):
            sum_neuron[i] += (a.detach().double() * a.grad.double()).abs()[0]
            activations[i].append(a.detach()[0])

    n = float(N_SAMPLES)
    out = {
        "gradient": [t / n for t in sum_abs],
        "taylor": [t / n for t in sum_taylor],
        "fisher": [0.5 * w.detach().double() ** 2 * t / n for w, t in zip(weights, sum_sq)],
    }
    theta = [t / n for t in sum_neuron]
    out["neuron-taylor"] = [t / t.norm() if t.norm() > 0 else t for t in theta]

    entropy = []
    worst_margin = math.inf
    for acts in activations:
        a = torch.stack(acts).double()               # (n, width)
        e = torch.zeros(a.shape[1], dtype=torch.float64)
        for j in range(a.shape[1]):
            lo, hi = a[:, j].min(), a[:, j].max()
            if hi > lo:
                t = (a[:, j] - lo) / (hi - lo) * ENTROPY_BINS
                inner = t[(t > 0) & (t < ENTROPY_BINS)]
                if inner.numel() > 0:
                    worst_margin = min(worst_margin, float((inner - inner.round()).abs().min()))
                h = torch.histc(a[:, j], bins=ENTROPY_BINS, min=float(lo), max=float(hi))
                p = h[h > 0] / n
                e[j] = -(p * torch.log2(p)).sum()
        entropy.append(e)
    out["entropy"] = entropy
    return out, worst_margin


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data",
                                                               "score-torch.bin")
    for seed in range(FIRST_SEED, FIRST_SEED + 1000):
        layers, masks, x, y = build(seed)
        values, margin = scores(layers, x, y)
        if margin > EDGE_MARGIN:
            break
    else:
        raise SystemExit("no seed keeps the activations off the bin edges")

    data = bytearray(b"PLSCORE1")
    data += struct.pack("<I", FIXTURE_VERSION)
    data += struct.pack("<II", ACTIVATIONS[ACTIVATION][0], len(layers))
    data += struct.pack(f"<{len(SIZES)}I", *SIZES)
    data += struct.pack("<III", N_SAMPLES, SIZES[-1], ENTROPY_BINS)
    params = []
    mask_values = []
    for layer, mask in zip(layers, masks):
        params += layer.weight.detach().flatten().tolist() + layer.bias.detach().tolist()
        mask_values += mask.flatten().tolist() + [1.0] * layer.bias.numel()
    data += struct.pack(f"<{len(params)}f", *params)
    data += struct.pack(f"<{len(mask_values)}f", *mask_values)
    data += struct.pack(f"<{x.numel()}f", *x.flatten().tolist())
    data += struct.pack(f"<{N_SAMPLES}I", *y.tolist())
    data += struct.pack("<I", len(values))
    for name, per_layer in values.items():
        flat = torch.cat([t.flatten() for t in per_layer]).tolist()
        data += name.encode().ljust(16, b"\0")
        data += struct.pack(f"<I{len(flat)}d", len(flat), *flat)

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    print(f"{os.path.normpath(path)}: seed {seed}, {len(data)} bytes, "
          f"closest activation to a bin edge {margin:.2e} bins away")


if __name__ == "__main__":
    main()
