#!/usr/bin/env bash
# `dsinfer random-model` for the tiny preset of every arch and variant, then `dsinfer inspect`
# on the file: exit codes, architecture, tensor count, the MLA form and the type fallbacks.
source "$(dirname "$0")/lib.sh"
dsinfer=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# arch, preset, extra flags, expected tensor count (tensor_layout.h: globals + per layer)
check_model() {
  local arch=$1 like=$2 flags=$3 tensors=$4
  local out="$dir/$like.gguf"
  local text rc
  text=$("$dsinfer" random-model --arch "$arch" --like "$like" $flags --seed 3 --format gguf \
         -o "$out" 2>&1); rc=$?
  [ "$rc" -eq 0 ] && pass || fail "random-model $like $flags exit $rc: $text"
  expect_contains "$text" "wrote $out: $tensors tensors" "$like summary"
  text=$("$dsinfer" inspect "$out" 2>&1); rc=$?
  [ "$rc" -eq 0 ] && pass || fail "inspect $like exit $rc"
  expect_contains "$text" "architecture:  $arch" "$like architecture"
  expect_contains "$text" "totals: $tensors tensors" "$like tensor count"
  printf '%s' "$text"
}

# 2 layers x 9 + token_embd, output_norm, output
check_model llama tiny-llama "--type q4_k" 21 >/dev/null
# 2 layers x 12 (q/k/v biases) + 3
check_model qwen2 tiny-qwen2 "--type q8_0" 27 >/dev/null
# dense layer 9, 2 MoE layers x 13 (router, 3 stacked experts, 3 shared) + 3
check_model deepseek tiny-deepseek "--type q4_0" 38 >/dev/null
# MLA with q-LoRA, split kv_b: dense 13, 2 MoE x 18 (exp_probs_b) + 3
text=$(check_model deepseek2 tiny-deepseek2 "--type q4_k" 52)
expect_contains "$text" "blk.1.exp_probs_b.bias" "V3 correction bias"
expect_contains "$text" "attention.key_length_mla" "split MLA metadata"
expect_contains "$text" "blk.0.attn_k_b.weight        f16" "rows of 16 fall back to f16"
expect_contains "$text" "token_embd.weight            q5_0" "q4_k rows of 64 fall back to q5_0"
# the legacy single attn_kv_b: one tensor fewer per layer
text=$(check_model deepseek2 tiny-deepseek2 "--type f16 --legacy-kv-b" 49)
expect_contains "$text" "blk.0.attn_kv_b.weight" "legacy kv_b"
# V2-Lite shape: plain attn_q, no correction bias: dense 11, 2 MoE x 15 + 3
text=$(check_model deepseek2 tiny-v2-lite "--type bf16" 44)
expect_contains "$text" "blk.0.attn_q.weight" "plain q projection"
# what llama.cpp needs to load it: q_lora_rank 0 (it takes only 26 or 27 layers for V2-Lite)
# and a mark for the missing vocabulary
expect_contains "$text" "deepseek2.attention.q_lora_rank                 UINT32                0" \
  "q_lora_rank 0 without q-LoRA"
expect_contains "$text" '"no_vocab"' "no vocabulary marked"
text=$("$dsinfer" run -m "$dir/tiny-v2-lite.gguf" -p "hello" -n 1 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "text prompt without a vocabulary exit $rc"
expect_contains "$text" "the model has no vocabulary" "no-vocabulary message"
text=$("$dsinfer" run -m "$dir/tiny-v2-lite.gguf" --prompt-ids 1,2 -n 1 --print-ids 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "token ids without a vocabulary exit $rc: $text"
# ids in without --print-ids: the same ids come out, with a note on stderr instead of an error
ids=$("$dsinfer" run -m "$dir/tiny-v2-lite.gguf" --prompt-ids 1,2 -n 3 --temp 0 2>"$dir/err.txt"); rc=$?
[ "$rc" -eq 0 ] && pass || fail "ids without --print-ids exit $rc: $(cat "$dir/err.txt")"
want=$("$dsinfer" run -m "$dir/tiny-v2-lite.gguf" --prompt-ids 1,2 -n 3 --temp 0 --print-ids 2>/dev/null)
[[ "$ids" =~ ^[0-9]+,[0-9]+,[0-9]+$ && "$ids" == "$want" ]] && pass || fail "ids printed: '$ids' vs '$want'"
expect_contains "$(cat "$dir/err.txt")" "printing the generated ids" "note on stderr"
# MLA with q-LoRA, softmax group-limited routing: dense 13, 2 MoE x 17 + 3
check_model deepseek2 tiny-v2 "--type q6_k" 50 >/dev/null
# a real shape cut to one layer (defaults to f32): 1 layer + token_embd, output_norm, output
check_model llama deepseek-coder-6.7b "--layers 1 --type q4_0" 12 >/dev/null
# A mixture (to size hardware for the files users download): the very file quantize writes
# from the f32 model of the same seed.
"$dsinfer" random-model --arch deepseek2 --like tiny-r1 --seed 3 -o "$dir/r1-f32.gguf" >/dev/null 2>&1
"$dsinfer" random-model --arch deepseek2 --like tiny-r1 --seed 3 --type q4_k_m \
  -o "$dir/r1-mix.gguf" >/dev/null 2>&1 && pass || fail "random-model --type q4_k_m"
"$dsinfer" quantize "$dir/r1-f32.gguf" "$dir/r1-q.gguf" Q4_K_M >/dev/null 2>&1
cmp -s "$dir/r1-mix.gguf" "$dir/r1-q.gguf" && pass || fail "random Q4_K_M differs from quantize's"
text=$("$dsinfer" random-model --arch qwen2 --format hf --type q4_k_m -o "$dir/x" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "hf format with a mixture exit $rc"
expect_contains "$text" "mixtures are for GGUF files" "hf mixture"

# errors: exit 1 and a message naming the problem
text=$("$dsinfer" random-model --arch llama --like v3 -o "$dir/x.gguf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "arch mismatch exit $rc"
expect_contains "$text" "--like v3 is arch deepseek2, not llama" "arch mismatch message"
text=$("$dsinfer" random-model --arch llama --type q8_k -o "$dir/x.gguf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "activation type exit $rc"
expect_contains "$text" "q8_K cannot store weights" "activation-only type"
text=$("$dsinfer" random-model --arch qwen2 --format hf --type q4_k -o "$dir/x" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "hf format with a block type exit $rc"
expect_contains "$text" "HF checkpoints are written in f32, f16, bf16 or f8_e4m3" "hf dtypes"
text=$("$dsinfer" random-model --arch qwen2 --like nope -o "$dir/x.gguf" 2>&1); rc=$?
expect_contains "$text" "unknown model preset 'nope'" "unknown preset"
[ ! -e "$dir/x.gguf" ] && pass || fail "no file written on error"
finish
