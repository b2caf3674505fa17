#!/usr/bin/env bash
# The committed default model (models/default.gguf) against the reference its training script
# computed in fp32 PyTorch from the same GGUF (models/default.ref.json, tools/default-model):
#   * perplexity of the held-out text (tests/data/default-heldout.txt) by llama.cpp's protocol,
#     n_ctx 256: the token count equal (the tokenizer), PPL within 1e-3 in F16 and F32, 1 % in
#     Q8_0 and 5 % in Q4_K (the last three made by `dsinfer quantize`). F16 scores every
#     chunk; the others the first few (--chunks) against the reference's per-chunk NLLs, to
#     keep the test short (F32 has no gemm body yet: ~0.85 s a chunk);
#   * the greedy continuations of the fixed prompts: identical ids in F16 and F32;
#   * shuffled held-out tokens: PPL more than 20x the text's (the model reads structure).
# It never retrains; the numbers in the reference come from tools/default-model/export_gguf.py.
source "$(dirname "$0")/lib.sh"
dsinfer=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
model="$root/models/default.gguf"
ref="$root/models/default.ref.json"
text="$root/tests/data/default-heldout.txt"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

/usr/bin/python3 - "$model" "$ref" "$text" <<'EOF' && pass || fail "the reference does not describe these files"
import hashlib, json, sys
model, ref, text = sys.argv[1:]
r = json.load(open(ref))
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert r["model_sha256"] == sha(model), "model sha256"
assert r["heldout_sha256"] == sha(text), "held-out text sha256"
EOF

for type in f32 q8_0 q4_k; do
  "$dsinfer" quantize "$model" "$dir/$type.gguf" "$type" >/dev/null 2>&1 && pass ||
    fail "quantize $type"
done

# perplexity NAME FILE TOLERANCE CHUNKS [flags...]: relative to the reference's PPL over the
# same chunks (CHUNKS 0: all of them).
perplexity() {
  local name=$1 file=$2 tol=$3 chunks=$4 problems
  shift 4
  "$dsinfer" perplexity -m "$file" -f "$text" -c 256 --chunks "$chunks" --threads 2 --json "$@" \
    >"$dir/$name.json" 2>"$dir/stderr" || { fail "perplexity $name: $(cat "$dir/stderr")"; return; }
  problems=$(/usr/bin/python3 - "$dir/$name.json" "$ref" "$tol" <<'EOF'
import json, math, sys
got = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))["perplexity"]
tol = float(sys.argv[3])
bad = []
if got["tokens"] != want["text_tokens"] + 1:
    bad.append(f"tokens {got['tokens']} != {want['text_tokens']} + BOS")
k = got["chunks"]
per_chunk = want["n_ctx"] - 1 - want["n_ctx"] // 2
if got["scored_tokens"] != k * per_chunk:
    bad.append("scored tokens")
ref_ppl = math.exp(sum(want["chunk_nll"][:k]) / (k * per_chunk))
if k == want["chunks"] and abs(ref_ppl - want["ppl"]) > 1e-9 * want["ppl"]:
    bad.append("the reference's chunk_nll do not add up to its ppl")
rel = abs(got["ppl"] - ref_ppl) / ref_ppl
if rel > tol:
    bad.append(f"ppl {got['ppl']:.6f} vs reference {ref_ppl:.6f} over {k} chunks: {rel:.2e} > {tol}")
print("; ".join(bad))
EOF
  ) || problems="the checker failed (its error is above)"
  [ -z "$problems" ] && pass || fail "perplexity $name: $problems"
}
perplexity f16 "$model" 1e-3 0 --kv-type f32
perplexity f16-kv16 "$model" 1e-3 16
perplexity f32 "$dir/f32.gguf" 1e-3 8 --kv-type f32
perplexity q8_0 "$dir/q8_0.gguf" 0.01 16
perplexity q4_k "$dir/q4_k.gguf" 0.05 16

"$dsinfer" perplexity -m "$model" -f "$text" -c 256 --chunks 16 --threads 2 --json \
  --shuffle-tokens 1 >"$dir/shuffled.json" 2>"$dir/stderr" && pass ||
  fail "shuffled: $(cat "$dir/stderr")"
/usr/bin/python3 - "$dir/shuffled.json" "$dir/f16.json" <<'EOF' && pass || fail "shuffled tokens should raise PPL > 20x"
import json, sys
shuffled, text = (json.load(open(p))["ppl"] for p in sys.argv[1:])
print(f"shuffled ppl {shuffled:.1f} vs text {text:.2f}")
assert shuffled > 20 * text
EOF

# Greedy continuations: the reference's ids exactly, in F16 and F32.
/usr/bin/python3 - "$ref" >"$dir/greedy.txt" <<'EOF'
import json, sys
for g in json.load(open(sys.argv[1]))["greedy"]:
    print(",".join(map(str, g["prompt_ids"])), ",".join(map(str, g["greedy_ids"])), len(g["greedy_ids"]))
EOF
while read -r prompt want n; do
  for file in "$model" "$dir/f32.gguf"; do
    got=$("$dsinfer" run -m "$file" --prompt-ids "$prompt" -n "$n" --print-ids --ignore-eos \
          --kv-type f32 --threads 2 2>"$dir/stderr")
    [ "$got" = "$want" ] && pass ||
      fail "greedy $(basename "$file") from ${prompt:0:40}: got $got, want $want"
  done
done <"$dir/greedy.txt"
finish
