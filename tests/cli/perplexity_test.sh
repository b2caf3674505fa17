#!/usr/bin/env bash
# `dsinfer perplexity` on a tiny random MLA model carrying DeepSeek-V3's real tokenizer: the
# JSON result follows llama.cpp's protocol (tokens = the tokenizer's count with BOS, chunks =
# tokens / n_ctx, n_ctx - 1 - n_ctx/2 scored per chunk, PPL = exp(NLL / scored)); --chunks
# gives the same running figures; --shuffle-tokens keeps the count and changes the NLL; the
# text form prints llama.cpp's final line; bad arguments and short texts exit non-zero with
# a message. The values themselves are checked in runner_tests (PerplexityTest).
source "$(dirname "$0")/lib.sh"
dsinfer=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$dsinfer" random-model --arch deepseek2 --like tiny-deepseek2 --type q8_0 --seed 3 \
  --tokenizer "$root/.cache/deepseek-v3" -o "$dir/m.gguf" >/dev/null 2>&1 && pass ||
  fail "random-model with the V3 tokenizer (scripts/fetch-test-assets.sh)"
/usr/bin/python3 - "$dir/text.txt" <<'EOF'
import sys
words = ("the sea was calm and the ship sailed north while the crew sang of home "
         "Emma walked to the village, 42 times, and said: what is a lighthouse?").split()
lines = [" ".join(words[(i * 7) % len(words):] + words[:(i * 7) % len(words)]) for i in range(40)]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF

run_json() {  # output file, extra args...
  local out=$1; shift
  "$dsinfer" perplexity -m "$dir/m.gguf" -f "$dir/text.txt" -c 64 --threads 2 --json "$@" \
    >"$out" 2>"$dir/stderr"
}
run_json "$dir/all.json" && pass || fail "perplexity --json: $(cat "$dir/stderr")"
run_json "$dir/two.json" --chunks 2 && pass || fail "--chunks 2: $(cat "$dir/stderr")"
run_json "$dir/shuffled.json" --shuffle-tokens 9 && pass || fail "--shuffle-tokens"
"$dsinfer" tokenize -m "$dir/m.gguf" <"$dir/text.txt" >"$dir/ids.json" 2>"$dir/stderr" && pass ||
  fail "tokenize: $(cat "$dir/stderr")"

problems=$(/usr/bin/python3 - "$dir" <<'EOF'
import json, math, sys
d = sys.argv[1]
r, two, sh = (json.load(open(f"{d}/{n}.json")) for n in ("all", "two", "shuffled"))
ids = json.load(open(f"{d}/ids.json"))
bad = []
def need(cond, what):
    if not cond: bad.append(what)
need(r["n_ctx"] == 64, "n_ctx")
need(r["tokens"] == len(ids) + 1, f"tokens {r['tokens']} = tokenizer's {len(ids)} + BOS")
need(r["chunks"] == r["tokens"] // 64 and r["chunks"] >= 3, "chunks = tokens / n_ctx")
need(r["scored_tokens"] == r["chunks"] * 31, "31 scored per chunk of 64")
need(math.isfinite(r["ppl"]) and r["ppl"] > 1, "ppl finite and > 1")
need(abs(r["ppl"] - math.exp(r["nll_sum"] / r["scored_tokens"])) <= 1e-9 * r["ppl"],
     "ppl = exp(nll / scored)")
need(len(r["running_ppl"]) == r["chunks"] and r["running_ppl"][-1] == r["ppl"], "running ppl")
need(0 < r["ppl_stderr"] < r["ppl"], "stderr")
need(two["chunks"] == 2 and two["running_ppl"] == r["running_ppl"][:2], "--chunks 2 prefix")
need(sh["tokens"] == r["tokens"] and sh["nll_sum"] != r["nll_sum"], "shuffle permutes")
print("; ".join(bad))
EOF
) || problems="the checker failed (its error is above)"
[ -z "$problems" ] && pass || fail "perplexity JSON: $problems"

text=$("$dsinfer" perplexity -m "$dir/m.gguf" -f "$dir/text.txt" -c 64 --chunks 1 2>&1)
expect_contains "$text" "Final estimate: PPL = " "text form"
expect_contains "$text" "[1]" "running figures"

bad_run() {  # what, expected message, args...
  local what=$1 want=$2 text rc; shift 2
  text=$("$dsinfer" perplexity "$@" 2>&1); rc=$?
  [ "$rc" -ne 0 ] && pass || fail "$what: exit 0"
  expect_contains "$text" "$want" "$what"
}
bad_run "missing file" "dsinfer perplexity: error" -m "$dir/m.gguf" -f "$dir/none.txt"
bad_run "missing model" "dsinfer perplexity: error" -m "$dir/none.gguf" -f "$dir/text.txt"
bad_run "context beyond the model's" "context length" -m "$dir/m.gguf" -f "$dir/text.txt" -c 4096
echo "hello world" >"$dir/short.txt"
bad_run "text shorter than a context" "fewer than one context" -m "$dir/m.gguf" \
  -f "$dir/short.txt" -c 64
bad_run "context scoring nothing" "ctx-size" -m "$dir/m.gguf" -f "$dir/text.txt" -c 3
finish
