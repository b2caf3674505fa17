"""Turns the unpacked Debian packages (fetch_corpus.sh) into the default model's corpus.

    /usr/bin/python3 tools/default-model/extract.py --cache /work/default-model-run/cache \
        --out /work/default-model-run/corpus

Sources (all public domain, WordNet under its BSD-like licence):
  * Jane Austen's six novels (r-cran-janeaustenr) and Moby Dick (r-cran-tokenizers), read
    from the R lazy-load databases data/Rdata.{rdx,rdb} without R;
  * the narrative books of the World English Bible (sword-text-web), read from the SWORD
    zText files {ot,nt}.{bzs,bzv,bzz} without libsword;
  * WordNet 3.0 glosses (wordnet-base) turned into "What is X?" chat pairs rendered in the
    DeepSeek-V3 chat template, offensive entries filtered out.

Prose is reflowed into paragraphs and cut into ~2 KB documents; each chat pair is one
document. Every 50th document of each kind goes to the held-out split (2%).
Writes OUT/train.jsonl and OUT/heldout.jsonl (one {"src", "text"} per line; chat documents
carry the special-token strings) and OUT/manifest.json (counts and sha256s).
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import re
import struct
import zlib

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
THINK, END_THINK = "<think>", "</think>"

DOC_CHARS = 2000
HELDOUT_EVERY = 50
SEED = 1234

# ---- R serialization (XDR, version 2/3), just enough for character vectors and lists ----


class _RList(list):
    attr = None


class _RReader:
    def __init__(self, data):
        self.b, self.p, self.refs = data, 0, []

    def int(self):
        v = struct.unpack_from(">i", self.b, self.p)[0]
        self.p += 4
        return v

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind in (254, 253, 252, 251, 247, 242, 241):  # NULL, environments, markers
            return None
        if kind == 255:  # reference to an earlier symbol
            k = flags >> 8
            return self.refs[(k if k else self.int()) - 1]
        if kind == 1:  # symbol
            v = self.item()
            self.refs.append(v)
            return v
        if kind == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            enc = "latin-1" if flags & (1 << 14) else "utf-8"
            v = self.b[self.p:self.p + n].decode(enc, "replace")
            self.p += n
            return v
        if kind in (2, 5, 6, 17):  # pairlists
            if has_attr:
                self.item()  # a pairlist's attributes are not needed
            tag = self.item() if has_tag else None
            car, cdr = self.item(), self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        if kind in (10, 13, 14, 16, 19, 20):  # logical, int, real, str, list, expression
            n = self.int()
            if n == -1:
                n = (self.int() << 32) + self.int()
            if kind in (16, 19, 20):
                v = _RList(self.item() for _ in range(n))
            elif kind == 14:
                v = _RList(struct.unpack_from(">%dd" % n, self.b, self.p))
                self.p += 8 * n
            else:
                v = _RList(struct.unpack_from(">%di" % n, self.b, self.p))
                self.p += 4 * n
            if has_attr:
                v.attr = dict(self.item())
            return v
        raise ValueError(f"R serialization type {kind} is not handled")


def r_unserialize(data):
    if data[:2] != b"X\n":
        raise ValueError("not an XDR R serialization")
    r = _RReader(data)
    r.p = 2
    version = r.int()
    r.int(), r.int()  # R version, minimal version
    if version == 3:
        n = r.int()
        r.p += n  # native encoding name
    return r.item()


def r_lazyload(prefix):
    """{name: object} of an R lazy-load database PREFIX.rdx / PREFIX.rdb."""
    with open(prefix + ".rdx", "rb") as f:
        index = r_unserialize(gzip.decompress(f.read()))
    variables = index[0]
    with open(prefix + ".rdb", "rb") as f:
        rdb = f.read()
    out = {}
    for name, (offset, length) in zip(variables.attr["names"], variables):
        record = rdb[offset:offset + length]  # 4-byte BE length, then one zlib stream
        out[name] = r_unserialize(zlib.decompress(record[4:]))
    return out


# ---- prose ----


def reflow(lines):
    """Hard-wrapped lines -> paragraphs (blank lines separate them)."""
    paras, cur = [], []
    for line in lines:
        line = line.strip()
        if line:
            cur.append(line)
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return [re.sub(r"\s+", " ", p) for p in paras]


HEADING = re.compile(r"^(CHAPTER|Chapter|VOLUME|Volume|BOOK)\b[\w .]*$|^[IVXLC]+\.?$|^\d+$")


def austen(root):
    books = r_lazyload(os.path.join(root, "usr/lib/R/site-library/janeaustenr/data/Rdata"))
    out = []
    for name in sorted(books):
        paras = [p for p in reflow(books[name]) if not HEADING.match(p)]
        out.append((f"austen-{name}", paras[3:]))  # drop the title lines
    return out


def moby_dick(root):
    text = r_lazyload(os.path.join(root, "usr/lib/R/site-library/tokenizers/data/Rdata"))
    text = text["mobydick"][0].replace("\r\n", "\n").lstrip("\ufeff")
    start = text.index("*** START OF")
    text = text[text.index("\n", start):]
    text = text[:text.index("End of Project Gutenberg")]
    # The novel proper begins with the etymology; skip the transcriber's notes and contents.
    text = text[text.index("ETYMOLOGY."):]
    paras = [p for p in reflow(text.split("\n")) if not HEADING.match(p)]
    return [("mobydick", paras)]


# The narrative books: Genesis to 2 Kings (without Leviticus), Nehemiah, Esther, Daniel,
# Jonah, the Gospels and Acts.
WEB_BOOKS = ("Gen", "Exod", "Num", "Deut", "Josh", "Judg", "Ruth", "1Sam", "2Sam", "1Kgs",
             "2Kgs", "Neh", "Esth", "Dan", "Jonah", "Matt", "Mark", "Luke", "John", "Acts")


def web_bible(root):
    """World English Bible verses in canonical order, paragraphs as in the OSIS text."""
    moddir = os.path.join(root, "usr/share/sword/modules/texts/ztext/engWEB2015eb")
    books = {}
    for testament in ("ot", "nt"):
        with open(os.path.join(moddir, testament + ".bzs"), "rb") as f:
            blocks_index = f.read()  # 12-byte records: offset, compressed size, size (LE)
        with open(os.path.join(moddir, testament + ".bzz"), "rb") as f:
            blocks_data = f.read()
        with open(os.path.join(moddir, testament + ".bzv"), "rb") as f:
            verses = f.read()  # 10-byte records: block, offset in block, size
        cache = {}
        book, seen = None, set()
        for e in range(len(verses) // 10):
            block, offset, size = struct.unpack_from("<IIH", verses, e * 10)
            if size == 0 or (block, offset) in seen:
                continue
            seen.add((block, offset))
            if block not in cache:
                off, csize, _ = struct.unpack_from("<III", blocks_index, block * 12)
                cache[block] = zlib.decompress(blocks_data[off:off + csize])
            osis = cache[block][offset:offset + size].decode("utf-8")
            m = re.search(r'<div [^>]*osisID="([^"]+)"[^>]*type="book"', osis)
            if m:
                book = m.group(1)
                osis = osis[m.start():]  # front matter before the first book
            if book in WEB_BOOKS:
                books.setdefault(book, []).append(osis)
    out = []
    for name in WEB_BOOKS:
        osis = "".join(books[name])
        osis = re.sub(r"<note\b.*?</note>", " ", osis, flags=re.S)
        osis = re.sub(r"<title\b.*?</title>", "", osis, flags=re.S)
        osis = re.sub(r'<div eID="[^"]*" type="x-p"/>|<l [^>]*eID[^>]*/>', "\n\n", osis)
        text = re.sub(r"<[^>]+>", "", osis)
        text = re.sub(r"[ \t]+", " ", text)
        text = re.sub(r" +([,.;:!?’”])", r"\1", text)
        text = re.sub(r"([“‘]) +", r"\1", text)
        out.append((f"web-{name}", reflow(text.split("\n"))))
    return out


def documents(source, paras):
    """Paragraphs -> ~DOC_CHARS documents (paragraphs joined by a blank line)."""
    docs, cur, n = [], [], 0
    for p in paras:
        cur.append(p)
        n += len(p) + 2
        if n >= DOC_CHARS:
            docs.append({"src": source, "text": "\n\n".join(cur)})
            cur, n = [], 0
    if cur:
        docs.append({"src": source, "text": "\n\n".join(cur)})
    return docs


# ---- WordNet chat pairs ----

OFFENSIVE = re.compile(r"\b(slur|offensive|obscene|vulgar|disparaging|derogatory|contemptuous|"
                       r"insulting|pejorative|abusive|racist|profane)\b", re.I)
# Usage-domain synsets: ethnic slur, obscenity/vulgarism, disparagement, profanity.
OFFENSIVE_DOMAINS = ("06718862", "07124340", "06717170", "07128527")


def wordnet_synsets(root):
    """{(pos, offset): (pos, [words], [definitions], [examples])} of the inoffensive synsets."""
    out, dropped = {}, 0
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(root, "usr/share/wordnet/data." + pos), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                head, gloss = line.split("|", 1)
                fields = head.split()
                n_words = int(fields[3], 16)
                words = [fields[4 + 2 * i] for i in range(n_words)]
                pointers = " ".join(fields[4 + 2 * n_words:])
                if OFFENSIVE.search(gloss) or any(f";u {d}" in pointers
                                                   for d in OFFENSIVE_DOMAINS):
                    dropped += 1
                    continue
                words = [re.sub(r"\([a-z]+\)$", "", w).replace("_", " ") for w in words]
                defs, examples = [], []
                for part in re.findall(r'"[^"]*"|[^;"]+', gloss.strip()):
                    part = part.strip(" ;")
                    if not part:
                        continue
                    if part.startswith('"'):
                        examples.append(part.strip('"').strip())
                    else:
                        defs.append(part)
                if defs:
                    out[(pos, fields[0])] = (pos, words, defs, examples)
    return out, dropped


def wordnet_questions(root, rng, limit, prose_counts):
    """(pos, [asked word, synonyms...], defs, examples) for the first (most frequent) sense of
    each lemma: lemmas seen in WordNet's sense-tagged corpus first (seeded random order), then
    other lowercase single words by their frequency in the prose, up to `limit`."""
    synsets, dropped = wordnet_synsets(root)
    tagged, rest = [], []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(root, "usr/share/wordnet/index." + pos), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split()
                n_ptr = int(fields[3])
                tag_count = int(fields[5 + n_ptr])
                key = (pos, fields[6 + n_ptr])  # first sense = most frequent
                if key not in synsets:
                    continue
                lemma = fields[0].replace("_", " ")
                if tag_count > 0:
                    tagged.append((lemma, key))
                elif lemma.isalpha() and lemma.islower():
                    rest.append((lemma, key))
    rng.shuffle(tagged)
    rng.shuffle(rest)
    rest.sort(key=lambda item: -prose_counts.get(item[0], 0))  # stable: ties stay shuffled
    out = []
    for lemma, key in (tagged + rest)[:limit]:
        pos, words, defs, examples = synsets[key]
        # The synset's own spelling of the lemma (capitals), then the other words.
        asked = next((w for w in words if w.lower() == lemma), lemma)
        out.append((pos, [asked] + [w for w in words if w != asked], defs, examples))
    return out, dropped


def article(word):
    if word[:1].isupper() or word[:1].isdigit():
        return word
    return ("an " if word[0] in "aeiou" else "a ") + word


def sentence(s):
    s = s.strip()
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def chat_pair(rng, pos, words, defs, examples):
    word = words[0]
    definition = re.sub(r"^\([^)]*\)\s*", "", "; ".join(defs)).strip()
    if not definition:
        return None
    if pos == "noun":
        aw = article(word)
        question = rng.choice([f"What is {aw}?", f"What is {aw}?", f"What does {word} mean?",
                               f"Define {word}.", f"Tell me about {word}.",
                               f"What is the meaning of {word}?", f"What's {aw}?"])
        answer = sentence(f"{aw[0].upper() + aw[1:]} is {definition}")
    elif pos == "verb":
        question = rng.choice([f"What does it mean to {word}?", f"What does {word} mean?",
                               f"Define {word}.", f"What is the meaning of to {word}?"])
        answer = sentence(f"To {word} means to {definition}")
    else:
        question = rng.choice([f"What does {word} mean?", f"What does {word} mean?",
                               f"Define {word}.", f"What is the meaning of {word}?"])
        answer = sentence(f"{word[0].upper() + word[1:]} means {definition}")
    extra = []
    if examples and rng.random() < 0.6:
        extra.append(f"For example: \"{sentence(examples[0])}\"")
    if len(words) > 1 and rng.random() < 0.5:
        extra.append(f"Another word for {word} is {words[1]}.")
    answer = " ".join([answer] + extra)
    if rng.random() < 0.1:  # a short reasoning block, R1 style
        kind = {"noun": "a noun", "verb": "a verb", "adj": "an adjective",
                "adv": "an adverb"}[pos]
        answer = (f"{THINK}\nThe user asks about the word \"{word}\". It is {kind}. "
                  f"I will give its meaning.\n{END_THINK}\n\n{answer}")
    return f"{BOS}{USER}{question}{ASSISTANT}{answer}{EOS}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default="/work/default-model-run/cache")
    ap.add_argument("--out", default="/work/default-model-run/corpus")
    ap.add_argument("--max-chat", type=int, default=32000,
                    help="chat pairs (lemmas of the sense-tagged corpus first)")
    args = ap.parse_args()
    root = os.path.join(args.cache, "root")
    rng = random.Random(SEED)

    prose = []
    for source, paras in austen(root) + moby_dick(root) + web_bible(root):
        prose.extend(documents(source, paras))

    prose_counts = {}
    for doc in prose:
        for w in re.findall(r"[a-z]+", doc["text"]):
            prose_counts[w] = prose_counts.get(w, 0) + 1
    questions, dropped = wordnet_questions(root, rng, args.max_chat, prose_counts)
    chat = []
    for pos, words, defs, examples in questions:
        text = chat_pair(rng, pos, words, defs, examples)
        if text:
            chat.append({"src": "wordnet", "text": text})

    train, heldout = [], []
    for kind in (prose, chat):
        for i, doc in enumerate(kind):
            (heldout if i % HELDOUT_EVERY == HELDOUT_EVERY - 1 else train).append(doc)
    rng.shuffle(train)

    os.makedirs(args.out, exist_ok=True)
    manifest = {"seed": SEED, "offensive_synsets_dropped": dropped, "files": {}}
    for name, docs in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        path = os.path.join(args.out, name)
        with open(path, "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        chars = {}
        for d in docs:
            chars[d["src"].split("-")[0]] = chars.get(d["src"].split("-")[0], 0) + len(d["text"])
        manifest["files"][name] = {"sha256": digest, "documents": len(docs), "chars": chars}
        print(f"{path}: {len(docs)} documents, chars by source {chars}, sha256 {digest}")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"dropped {dropped} offensive WordNet synsets")


if __name__ == "__main__":
    main()
