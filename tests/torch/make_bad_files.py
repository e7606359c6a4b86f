#!/usr/bin/python3
"""Regenerates tests/data/bad/st-*.safetensors: byte-level oddities that a safetensors reader
must refuse without crashing. Needs no PyTorch.

Each name reads st-WHAT--CODE.safetensors, where CODE is the PL_FORMAT_ERROR code
(lower case, '-' for '_') that test-safetensors.c expects.

  /usr/bin/python3 tests/torch/make_bad_files.py [OUT_DIR]
"""

import json
import os
import struct
import sys

# A valid 2-3-2 model: w0 [3,2], b0 [3], w1 [2,3], b1 [2] as F32.
TENSORS = {
    "layers.0.weight": ([3, 2], 0, 24),
    "layers.0.bias": ([3], 24, 36),
    "layers.1.weight": ([2, 3], 36, 60),
    "layers.1.bias": ([2], 60, 68),
}
DATA = struct.pack("<17f", *[0.25 * (i - 8) for i in range(17)])


def header_text(tensors=TENSORS, dtype="F32"):
    return json.dumps({name: {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}
                       for name, (shape, b, e) in tensors.items()}, separators=(",", ":"))


def file_bytes(header, data=DATA, length=None):
    if isinstance(header, str):
        header = header.encode("utf-8")
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def cases():
    valid = header_text()
    yield "empty--truncated", b""
    yield "seven-bytes--truncated", b"\x08\x00\x00\x00\x00\x00\x00"
    yield "header-past-end--truncated", file_bytes(valid, length=len(valid) + 1000)
    yield "header-length-2-pow-63--too-large", file_bytes(valid, length=1 << 63)
    yield "header-length-all-ones--too-large", file_bytes(valid, length=(1 << 64) - 1)
    yield "zero-header--bad-magic", file_bytes(b"", data=b"")
    yield "leading-space--bad-magic", file_bytes(" " + valid)
    yield "nul-in-header--bad-magic", file_bytes(valid[:10] + "\0" + valid[11:])
    yield "invalid-utf8--bad-magic", file_bytes(valid.encode()[:20] + b"\xff\xfe" + valid.encode()[22:])
    yield "single-quotes--bad-magic", file_bytes(valid.replace('"', "'"))
    yield "comment--bad-magic", file_bytes(valid[:-1] + "/* x */}")
    yield "hex-offset--bad-magic", file_bytes(valid.replace("[0,24]", "[0x0,24]"))
    yield "trailing-garbage--bad-magic", file_bytes(valid + "}")
    yield "unterminated--bad-magic", file_bytes(valid[:-1])
    # Deeper than the reader's guard of 16 levels; the C test also tries a million.
    yield "deep-arrays--bad-header", file_bytes('{"a":' + "[" * 4000 + "]" * 4000 + "}")
    yield "deep-objects--bad-header", file_bytes('{"a":' + '{"a":' * 2000 + "1" + "}" * 2001)
    yield "deep-unclosed--bad-header", file_bytes("{" * 4000)
    yield "integer-beyond-int64--bad-offset", file_bytes(
        valid.replace("[0,24]", "[18446744073709551616,18446744073709551640]"))
    yield "negative-beyond-int64--bad-offset", file_bytes(
        valid.replace("[0,24]", "[-9223372036854775809,24]"))
    yield "dimension-2-pow-64--bad-shape", file_bytes(valid.replace("[3,2]", "[18446744073709551616,2]"))
    yield "int32-weights--bad-dtype", file_bytes(header_text(dtype="I32"))
    yield "dtype-lowercase--bad-dtype", file_bytes(header_text(dtype="f32"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "bad")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in cases():
        with open(os.path.join(out_dir, f"st-{name}.safetensors"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
