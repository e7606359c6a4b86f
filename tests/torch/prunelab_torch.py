"""PruneLab <-> PyTorch helpers: safetensors by hand, the MLP, Fashion-MNIST.

Only the scripts in tests/torch/ import this; the C test suite does not need PyTorch.
Run with Debian's interpreter, which has python3-torch: /usr/bin/python3.

The safetensors layout (https://github.com/huggingface/safetensors): 8 bytes little-endian
header length N, N bytes of JSON, then the tensor bytes. There is no safetensors package in
Debian bookworm, so reading and writing are done here with json and struct.
"""

import gzip
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

MAX_HEADER_SIZE = 100 * 1024 * 1024

# dtype name -> (torch dtype, bytes per element)
DTYPES = {
    "BOOL": (torch.bool, 1),
    "U8": (torch.uint8, 1),
    "I8": (torch.int8, 1),
    "I16": (torch.int16, 2),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I32": (torch.int32, 4),
    "F32": (torch.float32, 4),
    "I64": (torch.int64, 8),
    "F64": (torch.float64, 8),
}
DTYPE_NAMES = {dtype: name for name, (dtype, _) in DTYPES.items()}

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


class SafetensorsError(ValueError):
    pass


def load_safetensors(path):
    """Returns ({name: tensor}, {metadata key: str}) and checks the rules of the format."""
    if sys.byteorder != "little":
        raise SafetensorsError("this reader assumes a little-endian machine")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SafetensorsError(f"{path}: {len(data)} bytes, too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_SIZE or n > len(data) - 8:
        raise SafetensorsError(f"{path}: header length {n} does not fit")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    buffer = memoryview(data)[8 + n:]

    tensors = {}
    ranges = []
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise SafetensorsError(f"{path}: tensor {name}: unsupported dtype {info['dtype']}")
        dtype, size = DTYPES[info["dtype"]]
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        count = math.prod(shape)
        if not 0 <= begin <= end <= len(buffer) or end - begin != count * size:
            raise SafetensorsError(f"{path}: tensor {name}: bad data_offsets [{begin}, {end}]")
        ranges.append((begin, end, name))
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            raw = bytearray(buffer[begin:end])
            tensors[name] = torch.frombuffer(raw, dtype=dtype).reshape(shape)

    covered = 0
    for begin, end, name in sorted(ranges):
        if begin != covered:
            raise SafetensorsError(f"{path}: tensor {name}: overlap or hole at byte {begin}")
        covered = end
    if covered != len(buffer):
        raise SafetensorsError(f"{path}: bytes {covered}..{len(buffer)} belong to no tensor")

    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes @tensors in their dict order, offsets ascending, header padded with spaces to a
    multiple of 8 as the reference writer does. Atomic: a temporary file, then a rename."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for raw in blobs:
                f.write(raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class MLP(nn.Module):
    """PruneLab's model in PyTorch: state_dict names layers.{i}.weight / layers.{i}.bias, the
    activation after every layer but the last (whose logits feed a softmax)."""

    def __init__(self, sizes, activation="relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}: choose relu, tanh or sigmoid")
        self.sizes = list(sizes)
        self.activation = activation
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def arch(self):
        return "-".join(str(s) for s in self.sizes)

    def forward(self, x):
        act = ACTIVATIONS[self.activation]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = act(x)
        return x


def parse_arch(arch):
    sizes = [int(s) for s in arch.split("-")]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"architecture {arch!r}: give layer sizes such as 784-300-100-10")
    return sizes


def load_mlp(path):
    """Builds the MLP of a safetensors file written by PruneLab or by PyTorch (weight, or
    weight_orig as torch.nn.utils.prune keeps it), with masks applied through
    prune.custom_from_mask. Returns the model in eval mode."""
    tensors, metadata = load_safetensors(path)
    n_layers = 0
    while f"layers.{n_layers}.bias" in tensors:
        n_layers += 1
    if n_layers == 0:
        raise SafetensorsError(f"{path}: no layers.0.bias")

    weights, masks = [], []
    for i in range(n_layers):
        w = tensors.get(f"layers.{i}.weight", tensors.get(f"layers.{i}.weight_orig"))
        if w is None:
            raise SafetensorsError(f"{path}: no layers.{i}.weight")
        weights.append(w.float())
        mask = tensors.get(f"layers.{i}.weight_mask")
        masks.append(None if mask is None else mask.float())
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    for i, w in enumerate(weights):
        if w.shape[1] != sizes[i]:
            raise SafetensorsError(f"{path}: layer {i} does not chain")

    model = MLP(sizes, metadata.get("activation", "relu"))
    if "arch" in metadata and metadata["arch"] != model.arch:
        raise SafetensorsError(f"{path}: metadata arch {metadata['arch']} but tensors {model.arch}")
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            layer.weight.copy_(weights[i])
            layer.bias.copy_(tensors[f"layers.{i}.bias"].float())
    for layer, mask in zip(model.layers, masks):
        if mask is not None:
            prune.custom_from_mask(layer, "weight", mask)
    return model.eval()


def prunelab_tensors(model):
    """The tensors PruneLab writes: weight (already masked), bias, and weight_mask for every
    layer when any weight of the model is pruned."""
    masks = [getattr(layer, "weight_mask", None) for layer in model.layers]
    pruned = any(m is not None and bool((m == 0).any()) for m in masks)
    tensors = {}
    for i, layer in enumerate(model.layers):
        tensors[f"layers.{i}.weight"] = layer.weight.detach().float()
        tensors[f"layers.{i}.bias"] = layer.bias.detach().float()
        if pruned:
            m = masks[i] if masks[i] is not None else torch.ones_like(layer.weight)
            tensors[f"layers.{i}.weight_mask"] = (m != 0).float()
    return tensors


def prunelab_metadata(model):
    return {"format": "prunelab", "arch": model.arch, "activation": model.activation}


def load_idx(path):
    """An IDX file (raw or gzip) of unsigned bytes, as a numpy array."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _idx_path(data_dir, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{data_dir}: no {stem}[.gz]")


def load_fashion_mnist(data_dir="/usr/share/datasets/fashion-mnist", split="test"):
    """(x, y): x float32 (n, 784) scaled to [0, 1], y int64 (n)."""
    prefix = "t10k" if split == "test" else "train"
    images = load_idx(_idx_path(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = load_idx(_idx_path(data_dir, f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y
