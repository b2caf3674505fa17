#!/usr/bin/python3
"""Writes the safetensors test fixtures next to this script (stdlib only, deterministic).

  tiny.safetensors      a small valid file (F32, BF16, I8 tensors and __metadata__), laid out
                        as the Rust safetensors writer does: header padded with spaces to a
                        multiple of 8, tensors in descending element size, so every tensor
                        starts at a file offset that is a multiple of its element size
  broken/*.safetensors  one defect each; every one must fail to open with a clear message

Run it again after changing it and commit the outputs; tests/unit/formats/safetensors_test.cc
checks the contents of tiny.safetensors.
"""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

ELEMENT_SIZE = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I16": 2,
                "F8_E4M3": 1, "F8_E5M2": 1, "I8": 1, "U8": 1, "BOOL": 1}


def pack_header(header_text, data=b"", header_len=None, pad=True):
    raw = header_text.encode("utf-8") if isinstance(header_text, str) else header_text
    if pad:
        raw += b" " * (-len(raw) % 8)  # writers pad the header to a multiple of 8 with spaces
    length = len(raw) if header_len is None else header_len
    return struct.pack("<Q", length) + raw + data


def build(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, data bytes), laid out back to back in descending
    element size (then by name), which keeps each one aligned after the padded header."""
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in sorted(tensors, key=lambda t: (-ELEMENT_SIZE[t[1]], t[0])):
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(payload)]}
        data += payload
        offset += len(payload)
    return pack_header(json.dumps(header, separators=(",", ":")), data)


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def bf16(values):
    # The top half of each float32: exact for these values.
    return b"".join(struct.pack("<f", v)[2:] for v in values)


def tiny():
    return build(
        [
            ("model.embed_tokens.weight", "F32", [2, 3], f32([0.5, -1.25, 2.0, 3.5, -4.0, 8.0])),
            ("model.norm.weight", "BF16", [4], bf16([1.0, -2.0, 0.5, 3.0])),
            ("model.layers.0.mlp.gate.weight", "I8", [3], bytes([1, 0x80, 0x7F])),
        ],
        metadata={"format": "pt"},
    )


def broken():
    entry = lambda dtype, shape, b, e: {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}
    return {
        # Fewer than the 8 bytes of the header length.
        "truncated_length": b"\x10\x00\x00",
        # The header length promises more bytes than the file has.
        "truncated_header": pack_header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                                        header_len=4096, pad=False),
        "huge_header_length": struct.pack("<Q", 1 << 63) + b"{}      ",
        "bad_json": pack_header('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'),
        "not_utf8": pack_header(b'{"\xff\xfe": {}}'),
        "header_not_object": pack_header("[1, 2, 3]"),
        "unknown_dtype": pack_header(json.dumps({"a": entry("F8_E8M0", [4], 0, 4)}), b"\x01" * 4),
        "size_mismatch": pack_header(json.dumps({"a": entry("F32", [2, 2], 0, 12)}), b"\x01" * 12),
        "offsets_out_of_file": pack_header(json.dumps({"a": entry("F32", [4], 0, 16)}),
                                           b"\x01" * 8),
        "overlapping": pack_header(json.dumps({"a": entry("F32", [4], 0, 16),
                                               "b": entry("F32", [4], 8, 24)}), b"\x01" * 24),
        "duplicate_tensor": pack_header(
            '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
            '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\x01" * 8),
        "negative_dim": pack_header(json.dumps({"a": entry("F32", [-1, 4], 0, 16)}), b"\x01" * 16),
        # An I8 byte first puts the F32 tensor at data offset 1: the header is padded, but the
        # tensor order is not the writer's.
        "misaligned": pack_header(json.dumps({"a": entry("I8", [1], 0, 1),
                                              "b": entry("F32", [2], 1, 9)}), b"\x01" * 9),
    }


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    write(os.path.join(HERE, "tiny.safetensors"), tiny())
    for name, data in sorted(broken().items()):
        write(os.path.join(HERE, "broken", name + ".safetensors"), data)


if __name__ == "__main__":
    main()
