#!/usr/bin/python3
"""Writes the corpus of malformed GGUF files used by tests/cli and as fuzzing seeds.

Each file breaks exactly one rule of the format; expected.tsv maps it to a phrase that
`dsinfer inspect` must print. Stdlib only, deterministic: re-running gives the same bytes.
Run: /usr/bin/python3 tests/data/gguf/broken/make_broken.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAGIC = b"GGUF"


def s(text):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def header(n_tensors, n_kv, version=3):
    return MAGIC + struct.pack("<IQQ", version, n_tensors, n_kv)


def kv_u32(key, value):
    return s(key) + struct.pack("<II", 4, value)


def tensor(name, ne, ggml_type, offset):
    return s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne) + \
        struct.pack("<IQ", ggml_type, offset)


def pad(data, alignment=32):
    return data + b"\0" * ((-len(data)) % alignment)


def good_prefix():
    return header(1, 1) + s("general.architecture") + struct.pack("<I", 8) + s("llama")


CASES = {}


def case(name, phrase):
    def register(fn):
        CASES[name] = (fn, phrase)
        return fn
    return register


@case("empty.gguf", "too short for the header")
def _():
    return b""


@case("wrong_magic.gguf", "not a GGUF file: magic")
def _():
    return b"GGML" + struct.pack("<IQQ", 3, 0, 0)


@case("version1.gguf", "GGUF version 1")
def _():
    return MAGIC + struct.pack("<III", 1, 0, 0) + b"\0" * 16


@case("big_endian.gguf", "big-endian")
def _():
    return MAGIC + struct.pack(">IQQ", 3, 0, 0)


@case("truncated_header.gguf", "truncated while reading tensor count")
def _():
    return MAGIC + struct.pack("<I", 3) + b"\1\0\0"


@case("huge_kv_count.gguf", "metadata count 9223372036854775807 is impossible")
def _():
    return header(0, 2**63 - 1) + b"\0" * 64


@case("huge_tensor_count.gguf", "tensor count 1152921504606846976 is impossible")
def _():
    return header(2**60, 0) + b"\0" * 64


@case("huge_string.gguf", "claims 18446744073709551615 bytes")
def _():
    return header(0, 1) + struct.pack("<Q", 2**64 - 1) + b"general" + b"\0" * 16


@case("invalid_utf8_key.gguf", "not valid UTF-8")
def _():
    return header(0, 1) + kv_u32(b"general.\xc3\x28", 1) + b"\0" * 16


@case("unknown_value_type.gguf", "unknown value type 42")
def _():
    return header(0, 1) + s("general.thing") + struct.pack("<II", 42, 0) + b"\0" * 16


@case("huge_array.gguf", "does not fit")
def _():
    return header(0, 1) + s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2**40) + \
        s("a") * 4


@case("duplicate_key.gguf", "duplicate metadata key 'general.alignment'")
def _():
    return header(0, 2) + kv_u32("general.alignment", 32) + kv_u32("general.alignment", 32)


@case("bad_alignment.gguf", "general.alignment = 48 is not a power of two")
def _():
    return header(0, 1) + kv_u32("general.alignment", 48) + b"\0" * 16


@case("too_many_dims.gguf", "has 5 dimensions")
def _():
    return pad(good_prefix() + tensor("blk.0.attn_q.weight", [1, 1, 1, 1, 1], 0, 0)) + b"\0" * 32


@case("negative_dim.gguf", "negative dimension")
def _():
    return pad(good_prefix() + tensor("blk.0.attn_q.weight", [4, -2], 0, 0)) + b"\0" * 32


@case("unknown_dtype.gguf", "unknown ggml type 99")
def _():
    return pad(good_prefix() + tensor("token_embd.weight", [4], 99, 0)) + b"\0" * 32


@case("shape_overflow.gguf", "overflows")
def _():
    return pad(good_prefix() + tensor("token_embd.weight", [2**31, 2**31, 2**31, 2**31], 0, 0)) + \
        b"\0" * 32


@case("block_mismatch.gguf", "not a multiple of q4_K's block of 256")
def _():
    return pad(good_prefix() + tensor("blk.0.attn_k_b.weight", [128, 4], 12, 0)) + b"\0" * 512


@case("misaligned_offset.gguf", "is not a multiple of the alignment 32")
def _():
    return pad(good_prefix() + tensor("token_embd.weight", [4], 0, 8)) + b"\0" * 64


@case("tensor_past_end.gguf", "extends past the end of the file")
def _():
    return pad(good_prefix() + tensor("token_embd.weight", [64, 64], 0, 0)) + b"\0" * 100


@case("truncated_data.gguf", "extends past the end of the file")
def _():
    body = header(2, 0) + tensor("a.weight", [8], 0, 0) + tensor("b.weight", [1024], 1, 32)
    return pad(body) + b"\1" * 32 + b"\2" * 1000  # b needs 2048 bytes


@case("overlapping_tensors.gguf", "overlap")
def _():
    body = header(2, 0) + tensor("a.weight", [16], 0, 0) + tensor("b.weight", [16], 0, 32)
    return pad(body) + b"\0" * 128


@case("duplicate_tensor.gguf", "duplicate tensor name 'a.weight'")
def _():
    body = header(2, 0) + tensor("a.weight", [8], 0, 0) + tensor("a.weight", [8], 0, 32)
    return pad(body) + b"\0" * 64


@case("deep_nesting.gguf", "nested deeper")
def _():
    return header(0, 1) + s("x") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 64


def main():
    rows = []
    for name, (make, phrase) in CASES.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(make())
        rows.append(f"{name}\t{phrase}\n")
    with open(os.path.join(HERE, "expected.tsv"), "w") as f:
        f.write("# file\tphrase that `dsinfer inspect FILE` must print (exit code 1)\n")
        f.writelines(rows)


if __name__ == "__main__":
    main()
