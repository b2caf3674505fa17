#!/usr/bin/python3
"""Writes the tokenizer comparison corpus: one JSON string per line (JSONL), seeded.

Usage: make_corpus.py OUT.jsonl [--lines N] [--seed S]

The strings cover what breaks tokenizers: English, Chinese, Japanese, Korean, code in several
languages, digits of every length, emoji and ZWJ sequences, whitespace and newline runs,
control characters, special-token look-alikes and very long words. Characters are limited to
those assigned by Unicode 14 (PCRE2 10.42's tables), so both implementations agree on their
categories; the reference (node) knows newer ones, PCRE2 does not.
"""
import argparse
import json
import random

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.", "It's a beautiful day, isn't it?",
    "We'll see what they've done; I'd say you're right.", "HELLO WORLD", "don't STOP",
    "Mr. O'Neil's 3rd-floor apartment costs $1,234.56/month.", "e.g., i.e., etc.",
    "supercalifragilisticexpialidocious", "naïve café résumé coöperate", "Ünïcödé Ströng",
]
CHINESE = ["你好，世界！", "深度求索的模型很强大。", "我们今天去公园散步吧", "机器学习与人工智能",
           "中华人民共和国成立于1949年。", "（括号）【方括号】《书名号》", "繁體中文測試"]
JAPANESE = ["こんにちは、世界！", "カタカナとひらがな", "東京都渋谷区", "ｶﾀｶﾅ半角", "日本語の文章です。"]
KOREAN = ["안녕하세요 세계", "한국어 텍스트입니다.", "서울특별시 강남구"]
OTHER = ["Привет, мир!", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
         "สวัสดีชาวโลก", "Xin chào thế giới", "Ωμέγα Ω K Å ǅ ǈ ﬁ ﬀ"]
CODE = [
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "const f = async (x) => { await g(x?.y ?? 0); };",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "<div class=\"a\">&nbsp;&lt;tag&gt;</div>", "x = [i**2 for i in range(10) if i % 2 == 0]",
    "if [ -f \"$HOME/.bashrc\" ]; then source ~/.bashrc; fi",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}",
    "    indented_with_spaces()\n\t\tand_tabs()\n", "a+=b-=c*=d/=e%=f<<=g>>=h&=i|=j^=k",
]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇯🇵", "🤖", "✨", "🎉🎉🎉", "👩🏻‍💻", "🧑‍🚀",
         "☕", "1️⃣", "🫠"]  # 🫠 is Unicode 14
SPECIAL = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
           "<think>", "</think>", "<｜tool▁calls▁begin｜>", "<｜tool▁sep｜>", "<|im_start|>",
           "<｜end▁of▁sentence", "｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<|endoftext|>", "<s>",
           "<｜fim▁hole｜>", "<<｜User｜>>"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u3000", "\u00a0", "\u2003",
          "\u200b", "\ufeff", "\u0085", "\u2028", "\n\n\n\n", "        ", "\t\t\n"]
CONTROL = ["\u0000", "\u0001", "\u0007", "\u001b[31m", "\u007f", "\u0080", "\u009f", "\u00ad"]
PUNCT = ["...", "!!!", "???", "—", "–", "«»", "“quoted”", "‘single’", "…", "@#$%^&*()", "\\/",
         "~~~", "©®™", "°C", "½¼", "→←↑↓", "∑∫√∞", "₹€£¥"]


def digits(rng):
    n = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 33, 64])
    s = "".join(rng.choice("0123456789") for _ in range(n))
    return rng.choice([s, s + ".5", "-" + s, s + "%", "v" + s, s + "th", "١٢٣" + s, "１２３" + s])


def long_word(rng):
    n = rng.choice([50, 200, 1000, 3000])
    return "".join(rng.choice(rng.choice(["abc", "xyz", "aaaa", "ab", "中文", "é", "Zz9"]))
                   for _ in range(n))


def fragment(rng):
    kind = rng.random()
    if kind < 0.20:
        return rng.choice(ENGLISH)
    if kind < 0.30:
        return rng.choice(CHINESE)
    if kind < 0.36:
        return rng.choice(JAPANESE)
    if kind < 0.40:
        return rng.choice(KOREAN)
    if kind < 0.45:
        return rng.choice(OTHER)
    if kind < 0.58:
        return rng.choice(CODE)
    if kind < 0.66:
        return digits(rng)
    if kind < 0.72:
        return rng.choice(EMOJI)
    if kind < 0.78:
        return rng.choice(SPECIAL)
    if kind < 0.88:
        return rng.choice(SPACES)
    if kind < 0.92:
        return rng.choice(CONTROL)
    if kind < 0.98:
        return rng.choice(PUNCT)
    return long_word(rng)


def line(rng):
    parts = [fragment(rng) for _ in range(rng.choice([1, 1, 2, 3, 4, 6, 10]))]
    joiner = rng.choice(["", " ", " ", "\n", ""])
    return joiner.join(parts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=20240531)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # Every single fragment alone first, then random mixtures.
    fixed = ENGLISH + CHINESE + JAPANESE + KOREAN + OTHER + CODE + EMOJI + SPECIAL + SPACES
    fixed += CONTROL + PUNCT + ["", " ", "a", "0" * 100, "9" * 7, "x" * 5000]
    fixed += ["".join(str(i) for i in range(1, n + 1)) for n in range(1, 25)]
    lines = fixed + [line(rng) for _ in range(max(0, args.lines - len(fixed)))]
    with open(args.out, "w", encoding="utf-8") as f:
        for text in lines:
            f.write(json.dumps(text, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
