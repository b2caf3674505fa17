#!/usr/bin/env bash
# `dsinfer quantize` on a random tiny DeepSeek-V3-shaped model: per-tensor lines and totals,
# the types `dsinfer inspect` then reads (llama.cpp's fallbacks, --keep rules, norms left
# alone, general.file_type), a Q4_K_M mixture, requantising a quantised file, --pure, and the
# errors (bad type, bad rule, mixture with --pure, OUT == IN, truncated input), none of which
# leaves an output file behind.
source "$(dirname "$0")/lib.sh"
dsinfer=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

expect_match() {  # text extended-regex what
  if grep -Eq -- "$2" <<<"$1"; then pass; else fail "$3: expected /$2/, got: ${1:0:400}"; fi
}
expect_no_output() {  # path what
  if [ ! -e "$1" ] && [ ! -e "$1.tmp" ]; then pass; else fail "$2: $1 or $1.tmp left behind"; fi
}

"$dsinfer" random-model --arch deepseek2 --like tiny-deepseek2 --seed 5 -o "$dir/f32.gguf" \
  >/dev/null 2>&1 && pass || fail "random-model"

# F32 -> Q4_K with one rule: 52 tensors (random_model_test.sh), rows of 64 fall back to q5_0,
# attn_k_b's rows of 16 to f16.
text=$("$dsinfer" quantize "$dir/f32.gguf" "$dir/q4k.gguf" q4_k --keep q8_0:attn_kv_a \
       --threads 2 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "quantize q4_k exit $rc: $text"
expect_match "$text" "^\[ 1/52\] token_embd\.weight +\[64, 512\] +f32 -> q5_0 .*\(fallback: q4_K cannot hold rows of 64\)" "token_embd line"
expect_match "$text" "blk\.0\.attn_kv_a_mqa\.weight +\[64, 40\] +f32 -> q8_0 .*\(rule q8_0:attn_kv_a\)" "rule line"
expect_match "$text" "blk\.0\.attn_k_b\.weight .* f32 -> f16 .*cannot hold rows of 16" "f16 fallback line"
expect_match "$text" "blk\.0\.attn_norm\.weight +\[64\] +f32 \(unchanged\)" "norm line"
expect_match "$text" "wrote $dir/q4k\.gguf in q4_K: 52 tensors \([0-9]+ converted, [0-9]+ unchanged, [0-9]+ in fallback types\), .* bits per weight" "totals"
text=$("$dsinfer" inspect "$dir/q4k.gguf" 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "inspect q4k exit $rc"
expect_contains "$text" "totals: 52 tensors" "tensor count kept"
expect_match "$text" "general\.file_type +UINT32 +14" "file_type Q4_K_S"
expect_match "$text" "deepseek2\.attention\.kv_lora_rank +UINT32 +32" "metadata copied"
expect_match "$text" " token_embd\.weight +q5_0 " "token_embd q5_0"
expect_match "$text" " blk\.0\.attn_k_b\.weight +f16 " "attn_k_b f16"
expect_match "$text" " blk\.0\.attn_kv_a_mqa\.weight +q8_0 " "rule applied"
expect_match "$text" " blk\.0\.attn_kv_a_norm\.weight +f32 " "norm stays f32 despite the rule"
expect_match "$text" " blk\.1\.ffn_gate_inp\.weight +f32 " "router stays f32"
expect_match "$text" " blk\.1\.exp_probs_b\.bias +f32 " "expert bias stays f32"

# A quantised input is requantised; same-type tensors are copied.
text=$("$dsinfer" quantize "$dir/q4k.gguf" "$dir/q8.gguf" Q8_0 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "requantize exit $rc: $text"
expect_match "$text" "token_embd\.weight .* q5_0 -> q8_0" "q5_0 -> q8_0"
expect_match "$text" "blk\.0\.attn_kv_a_mqa\.weight .* q8_0 \(unchanged\)" "q8_0 copied"
expect_match "$("$dsinfer" inspect "$dir/q8.gguf")" "general\.file_type +UINT32 +7" "file_type Q8_0"

# A llama.cpp mixture: the output (rows of 64: Q8_0, as llama-quantize) raised, the rest q4_K
# or its fallback, general.file_type 15.
text=$("$dsinfer" quantize "$dir/f32.gguf" "$dir/q4km.gguf" Q4_K_M 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "quantize Q4_K_M exit $rc: $text"
expect_match "$text" "output\.weight .* f32 -> q8_0 .*\(raised by the mixture\)" "raised output"
expect_match "$text" "blk\.1\.ffn_up_exps\.weight .* f32 -> q5_0 .*fallback: q4_K" "mixture base"
expect_match "$text" "wrote $dir/q4km\.gguf in Q4_K_M: 52 tensors" "mixture totals"
text=$("$dsinfer" inspect "$dir/q4km.gguf")
expect_match "$text" "general\.file_type +UINT32 +15" "file_type Q4_K_M"
expect_contains "$text" "file type:     Q4_K_M" "file type named"

# --pure: the exact type or an error naming the tensor; a rule can make it possible.
text=$("$dsinfer" quantize "$dir/f32.gguf" "$dir/pure.gguf" q8_0 --pure 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "pure exit $rc"
expect_contains "$text" "tensor blk.0.attn_k_b.weight: rows of 16 elements cannot be stored in q8_0" "pure error"
expect_contains "$text" "a rule such as f16:attn_k_b" "pure hint"
expect_no_output "$dir/pure.gguf" "pure error"
text=$("$dsinfer" quantize "$dir/f32.gguf" "$dir/pure.gguf" q8_0 --pure --keep f16:attn_k_b 2>&1)
rc=$?
[ "$rc" -eq 0 ] && pass || fail "pure with rule exit $rc: $text"
expect_contains "$text" "0 in fallback types" "pure has no fallbacks"

# errors: exit 1, a message naming the problem, no output file
check_error() {  # what expected-message args...
  local what=$1 message=$2 out
  shift 2
  text=$("$dsinfer" quantize "$@" 2>&1); rc=$?
  [ "$rc" -eq 1 ] && pass || fail "$what: exit $rc: $text"
  expect_contains "$text" "$message" "$what"
}
check_error "mixture and pure" "Q4_K_M is a mixture of types, and pure asks for one" \
  "$dir/f32.gguf" "$dir/x.gguf" q4_k_m --pure
check_error "unknown type" "'q9_0' is not a type; weight types: f32, f16, bf16" \
  "$dir/f32.gguf" "$dir/x.gguf" q9_0
check_error "activation type" "type q8_K cannot store weights" "$dir/f32.gguf" "$dir/x.gguf" q8_k
check_error "bad rule" "tensor type rule 'q8_0attn': no ':'" \
  "$dir/f32.gguf" "$dir/x.gguf" q4_k --keep q8_0attn
check_error "missing input" "No such file" "$dir/nope.gguf" "$dir/x.gguf" q4_k
expect_no_output "$dir/x.gguf" "errors"
cp "$dir/f32.gguf" "$dir/copy.gguf"
check_error "output is input" "is the input file" "$dir/f32.gguf" "$dir/./f32.gguf" q4_k
cmp -s "$dir/f32.gguf" "$dir/copy.gguf" && pass || fail "input changed by a refused run"
head -c 20000 "$dir/f32.gguf" > "$dir/cut.gguf"
check_error "truncated input" "extends past the end of the file" "$dir/cut.gguf" "$dir/cut_q4k.gguf" q4_k
expect_no_output "$dir/cut_q4k.gguf" "truncated input"
finish
