"""Byte-level BPE with DeepSeek-V3's pre-tokenizer and special tokens: trainer and encoder.

    /usr/bin/python3 tools/default-model/bpe.py train --corpus RUN/corpus/train.jsonl \
        --vocab 4096 --out RUN/tokenizer.json
    /usr/bin/python3 tools/default-model/bpe.py encode --tokenizer RUN/tokenizer.json "text"

Vocabulary layout: the special tokens first (ids 0..15: begin/end of sentence, pad, User,
Assistant, <think>, </think>, the tool-call markers), then the 256 bytes in GPT-2's
byte-to-unicode form, then one token per merge. --vocab counts bytes plus merges.
The split rules are the three regexes of DeepSeek-V3's tokenizer.json, applied in sequence
("Isolated": matches and the text between them both become pieces), as llama.cpp's
"deepseek-v3" pre-tokenizer does. Merges are applied by rank (GPT-2 / HF BPE).
"""
import argparse
import heapq
import json
import sys

import regex

SPECIAL_TOKENS = [
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>",
    "<｜Assistant｜>", "<think>", "</think>", "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>",
    "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁outputs▁begin｜>",
    "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>", "<｜tool▁sep｜>",
]
BOS_ID, EOS_ID = 0, 1
# llama.cpp token types: special tokens that look special are CONTROL (3); <think> and
# </think> are plain added tokens in R1's tokenizer.json, hence USER_DEFINED (4).
USER_DEFINED = {"<think>", "</think>"}

# DeepSeek-V3 tokenizer.json pre_tokenizer: Sequence of three Split(Isolated) steps.
PATTERNS = [
    regex.compile(r"\p{N}{1,3}"),
    regex.compile("[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"),
    regex.compile(r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+"
                  r"|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+"),
]
_SPECIAL_RE = regex.compile("|".join(regex.escape(t) for t in
                                     sorted(SPECIAL_TOKENS, key=len, reverse=True)))


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pre_tokenize(text):
    pieces = [text]
    for pattern in PATTERNS:
        out = []
        for piece in pieces:
            pos = 0
            for m in pattern.finditer(piece):
                if m.start() > pos:
                    out.append(piece[pos:m.start()])
                if m.end() > m.start():
                    out.append(m.group())
                pos = m.end()
            if pos < len(piece):
                out.append(piece[pos:])
        pieces = out
    return pieces


def split_special(text):
    """[(is_special, text)] with every special-token string as its own item."""
    out, pos = [], 0
    for m in _SPECIAL_RE.finditer(text):
        if m.start() > pos:
            out.append((False, text[pos:m.start()]))
        out.append((True, m.group()))
        pos = m.end()
    if pos < len(text):
        out.append((False, text[pos:]))
    return out


def to_symbols(piece):
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))


class Tokenizer:
    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.tokens = list(SPECIAL_TOKENS) + [BYTE_TO_CHAR[b] for b in range(256)]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        for a, b in self.merges:
            if a + b not in self.ids:
                self.ids[a + b] = len(self.tokens)
                self.tokens.append(a + b)
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self._cache = {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data["special_tokens"] != SPECIAL_TOKENS:
            raise ValueError(f"{path}: special tokens differ from bpe.py's")
        tok = cls(data["merges"])
        if tok.tokens != data["tokens"]:
            raise ValueError(f"{path}: token list does not follow from the merges")
        return tok

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"special_tokens": SPECIAL_TOKENS, "tokens": self.tokens,
                       "merges": [list(m) for m in self.merges]}, f, ensure_ascii=False)

    def token_types(self):
        return [(4 if t in USER_DEFINED else 3) if i < len(SPECIAL_TOKENS) else 1
                for i, t in enumerate(self.tokens)]

    def _bpe(self, symbols):
        word = list(symbols)
        while len(word) > 1:
            best, best_rank = None, None
            for pair in zip(word, word[1:]):
                r = self.ranks.get(pair)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = pair, r
            if best is None:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return [self.ids[s] for s in word]

    def encode(self, text, add_bos=False):
        """Token ids of text; special-token strings in text become their ids."""
        ids = [BOS_ID] if add_bos else []
        for special, part in split_special(text):
            if special:
                ids.append(self.ids[part])
                continue
            for piece in pre_tokenize(part):
                cached = self._cache.get(piece)
                if cached is None:
                    cached = self._bpe(to_symbols(piece))
                    if len(self._cache) < 1 << 20:
                        self._cache[piece] = cached
                ids.extend(cached)
        return ids

    def decode(self, ids):
        out, buf = [], bytearray()
        for i in ids:
            t = self.tokens[i]
            if i < len(SPECIAL_TOKENS):
                out.append(buf.decode("utf-8", "replace"))
                buf = bytearray()
                out.append(t)
            else:
                buf.extend(CHAR_TO_BYTE[c] for c in t)
        out.append(buf.decode("utf-8", "replace"))
        return "".join(out)


def train(texts, n_merges, log=print):
    """Greedy BPE: repeatedly merge the most frequent adjacent pair (ties: smallest pair)."""
    counts = {}
    for text in texts:
        for special, part in split_special(text):
            if special:
                continue
            for piece in pre_tokenize(part):
                counts[piece] = counts.get(piece, 0) + 1
    words = [list(to_symbols(p)) for p in counts]
    freq = list(counts.values())
    log(f"{len(words)} unique pre-tokens")
    pair_count, where = {}, {}

    def add(wi, sign):
        w, c = words[wi], freq[wi]
        for pair in zip(w, w[1:]):
            pair_count[pair] = pair_count.get(pair, 0) + sign * c
            if sign > 0:
                where.setdefault(pair, set()).add(wi)
            heap_push(pair)

    heap = []

    def heap_push(pair):
        heapq.heappush(heap, (-pair_count[pair], pair))

    for wi in range(len(words)):
        w, c = words[wi], freq[wi]
        for pair in zip(w, w[1:]):
            pair_count[pair] = pair_count.get(pair, 0) + c
            where.setdefault(pair, set()).add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    merges = []
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale entry
        merges.append(pair)
        a, b = pair
        for wi in list(where.pop(pair, ())):
            w = words[wi]
            if not any(w[i] == a and w[i + 1] == b for i in range(len(w) - 1)):
                continue
            add(wi, -1)
            merged, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[wi] = merged
            add(wi, +1)
        pair_count.pop(pair, None)
        if len(merges) % 500 == 0:
            log(f"{len(merges)} merges, last {a + b!r} x{-neg}")
    return merges


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--corpus", required=True, help="train.jsonl from extract.py")
    t.add_argument("--vocab", type=int, default=4096, help="bytes + merges")
    t.add_argument("--out", required=True)
    e = sub.add_parser("encode")
    e.add_argument("--tokenizer", required=True)
    e.add_argument("--bos", action="store_true")
    e.add_argument("text")
    args = ap.parse_args()
    if args.cmd == "train":
        with open(args.corpus, encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in f]
        merges = train(texts, args.vocab - 256)
        tok = Tokenizer(merges)
        tok.save(args.out)
        print(f"{args.out}: {len(tok.tokens)} tokens ({len(merges)} merges)")
    else:
        tok = Tokenizer.load(args.tokenizer)
        print(",".join(map(str, tok.encode(args.text, add_bos=args.bos))))


if __name__ == "__main__":
    sys.exit(main())
