#!/usr/bin/env python3
"""Writes a tiny byte-level BPE tokenizer.json + tokenizer_config.json (with a chat template)
whose vocabulary is exactly the tiny random models' 512 ids, so that `dsinfer serve` runs the
whole chat path (template, encode, generate, detokenise) on a model made by
`dsinfer random-model`. Usage: make_tiny_tokenizer.py OUT_DIR"""
import itertools
import json
import os
import string
import sys

VOCAB_SIZE = 512  # tiny-* presets (model_presets.cc)
SPECIAL = ["<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>", "<|system|>"]


def bytes_to_unicode():
    """GPT-2's byte -> code point table (tokenizer/byte_level.h)."""
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


def main(out_dir):
    byte = bytes_to_unicode()
    vocab = {byte[b]: b for b in range(256)}
    merges = []
    # Two-letter merges fill every id between the bytes and the special tokens.
    pairs = itertools.product(string.ascii_lowercase, repeat=2)
    while len(vocab) < VOCAB_SIZE - len(SPECIAL):
        a, b = next(pairs)
        vocab[a + b] = len(vocab)
        merges.append(f"{a} {b}")
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for i, s in enumerate(SPECIAL)]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "vocab": vocab, "merges": merges},
    }
    template = ("{{ bos_token }}{% for m in messages %}"
                "{% if m['role'] == 'system' %}<|system|>{{ m['content'] }}"
                "{% elif m['role'] == 'user' %}<|user|>{{ m['content'] }}"
                "{% else %}<|assistant|>{{ m['content'] }}{{ eos_token }}{% endif %}"
                "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    config = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "add_bos_token": False,
              "chat_template": template, "tokenizer_class": "PreTrainedTokenizerFast"}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
