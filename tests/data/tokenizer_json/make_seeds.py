#!/usr/bin/env python3
"""Writes the seeds of fuzz/tokenizer_json_fuzzer.cc: small byte-level BPE tokenizer.json
files (each optionally followed by a NUL and a tokenizer_config.json), one per loader
feature, so the fuzzer starts from inputs that load. Run from anywhere; writes next to itself.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def bytes_to_unicode():
    """GPT-2's byte -> code point table (byte_level.h)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE = bytes_to_unicode()


def level(raw):
    return "".join(BYTE[b] for b in raw.encode("utf-8"))


MERGES = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), (" ", "w"), ("o", "r"),
          (" w", "or"), ("l", "d"), (" wor", "ld"), ("1", "2")]
LLAMA3 = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?"
          "[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
DEEPSEEK_V3 = ["\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
               "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?"
               "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"]


def tokenizer(pre_tokenizer, normalizer=None, pair_merges=False, extra_model=None):
    vocab = {BYTE[b]: b for b in range(256)}
    merges = []
    for a, b in MERGES:
        left, right = level(a), level(b)
        vocab[left + right] = len(vocab)
        merges.append([left, right] if pair_merges else f"{left} {right}")
    added = [
        {"id": 300, "content": "<|bos|>", "special": True},
        {"id": 301, "content": "<|eos|>", "special": True},
        {"id": 302, "content": "<tool>", "special": False, "lstrip": True, "rstrip": True},
        {"id": 303, "content": "<sw>", "special": False, "single_word": True},
    ]
    model = {"type": "BPE", "dropout": None, "vocab": vocab, "merges": merges}
    model.update(extra_model or {})
    return {"version": "1.0", "added_tokens": added, "normalizer": normalizer,
            "pre_tokenizer": pre_tokenizer, "post_processor": None,
            "decoder": {"type": "ByteLevel"}, "model": model}


def split(pattern, behavior="Isolated", invert=False, kind="Regex"):
    return {"type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": invert}


def byte_level(use_regex):
    return {"type": "ByteLevel", "add_prefix_space": False, "use_regex": use_regex}


def sequence(*steps):
    return {"type": "Sequence", "pretokenizers": list(steps)}


CONFIG = {"bos_token": "<|bos|>", "eos_token": {"content": "<|eos|>"}, "add_bos_token": True,
          "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"}

SEEDS = {
    "gpt2_byte_level": (tokenizer(byte_level(True)), None),
    "with_config": (tokenizer(byte_level(True)), CONFIG),
    "deepseek_v3_style": (tokenizer(sequence(*[split(p) for p in DEEPSEEK_V3],
                                             byte_level(False))), CONFIG),
    "llama3_style": (tokenizer(sequence(split(LLAMA3), byte_level(False)),
                               extra_model={"ignore_merges": True}, pair_merges=True), None),
    "behaviors": (tokenizer(sequence(split(" ", "Removed", kind="String"),
                                     split("\\d", "MergedWithNext"),
                                     split("[a-z]+", "Contiguous", invert=True),
                                     split("o", "MergedWithPrevious", kind="String"),
                                     {"type": "Digits", "individual_digits": True},
                                     byte_level(False))), None),
    "normalizers": (tokenizer(byte_level(True), normalizer={
        "type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "_"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "__"},
            {"type": "Replace", "pattern": {"Regex": "\\s+$"}, "content": ""},
            {"type": "Strip", "strip_left": True, "strip_right": False}]}),
                    None),
    "unk_token": (tokenizer(byte_level(True), extra_model={"unk_token": "he"}), None),
}


def main():
    for name, (tok, config) in SEEDS.items():
        data = json.dumps(tok, ensure_ascii=False).encode("utf-8")
        if config is not None:
            data += b"\0" + json.dumps(config).encode("utf-8")
        with open(os.path.join(HERE, name + ".seed"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
