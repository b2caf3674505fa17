#!/usr/bin/env bash
# `dsinfer random-model --format hf` then `dsinfer convert` for the tiny preset of every arch
# and variant: the GGUF has the layout's names and types, `--keep` rules are honoured, an F32
# checkpoint converts to the very bytes `random-model --format gguf` writes for the same seed,
# a tokenizer.json becomes GGUF tokenizer metadata that tokenizes alike, and bad checkpoints
# are errors naming the tensor.
source "$(dirname "$0")/lib.sh"
dsinfer=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# arch, preset, hf dtype, convert flags, expected tensor count (as random_model_test.sh)
check_convert() {
  local arch=$1 like=$2 hf_type=$3 flags=$4 tensors=$5
  local hf="$dir/$like-$hf_type" out="$dir/$like-$hf_type.gguf"
  local text rc
  text=$("$dsinfer" random-model --arch "$arch" --like "$like" --type "$hf_type" --seed 7 \
         --format hf -o "$hf" 2>&1); rc=$?
  [ "$rc" -eq 0 ] && pass || fail "random-model --format hf $like exit $rc: $text"
  [ -f "$hf/config.json" ] && [ -f "$hf/model.safetensors" ] && pass || fail "$like hf files"
  text=$("$dsinfer" convert "$hf" -o "$out" $flags --threads 2 2>&1); rc=$?
  [ "$rc" -eq 0 ] && pass || fail "convert $like $flags exit $rc: $text"
  expect_contains "$text" "wrote $out" "$like convert summary"
  text=$("$dsinfer" inspect "$out" 2>&1); rc=$?
  [ "$rc" -eq 0 ] && pass || fail "inspect $like exit $rc"
  expect_contains "$text" "architecture:  $arch" "$like architecture"
  expect_contains "$text" "totals: $tensors tensors" "$like tensor count"
  printf '%s' "$text"
}

check_convert llama tiny-llama f32 "--type q8_0" 21 >/dev/null
check_convert qwen2 tiny-qwen2 bf16 "--type f16" 27 >/dev/null
check_convert deepseek tiny-deepseek f16 "--type q4_0" 38 >/dev/null
# V3's FP8 checkpoint (MTP layer included and skipped), q4_k with attention kept in q8_0
text=$(check_convert deepseek2 tiny-deepseek2 fp8 "--type q4_k --keep q8_0:attn" 52)
expect_contains "$text" "blk.1.attn_q_b.weight        q8_0" "--keep q8_0:attn"
expect_contains "$text" "blk.1.attn_v_b.weight        q8_0" "--keep q8_0:attn on a split kv_b"
expect_contains "$text" "blk.1.ffn_up_exps.weight     q5_0" "q4_k rows of 64 fall back to q5_0"
expect_contains "$text" "blk.1.exp_probs_b.bias       f32" "V3 correction bias stays f32"
expect_contains "$text" "blk.1.ffn_gate_inp.weight    f32" "router stays f32"
if [[ "$text" == *"blk.3."* ]]; then fail "the MTP layer was converted"; else pass; fi
text=$(check_convert deepseek2 tiny-v2-lite bf16 "--type bf16" 44)
expect_contains "$text" "blk.0.attn_q.weight          bf16" "V2-Lite plain q projection"
text=$(check_convert deepseek2 tiny-v2 f32 "--type q6_k --legacy-kv-b" 47)
expect_contains "$text" "blk.0.attn_kv_b.weight" "legacy kv_b"

# An F32 checkpoint converts to exactly what random-model writes as GGUF (same seed, type,
# name): the transforms (q/k permutation, expert stacking, kv_b split) invert the writer's.
for spec in "llama tiny-llama q4_k" "deepseek tiny-deepseek q8_0" "deepseek2 tiny-deepseek2 q4_0"; do
  set -- $spec
  "$dsinfer" random-model --arch "$1" --like "$2" --type f32 --seed 11 --format hf \
    -o "$dir/same-$2" >/dev/null 2>&1
  "$dsinfer" random-model --arch "$1" --like "$2" --type "$3" --seed 11 --format gguf \
    -o "$dir/same-$2.gguf" >/dev/null 2>&1
  "$dsinfer" convert "$dir/same-$2" -o "$dir/conv-$2.gguf" --type "$3" --name "random $2" \
    >/dev/null 2>&1
  cmp -s "$dir/same-$2.gguf" "$dir/conv-$2.gguf" && pass ||
    fail "convert of the f32 $2 checkpoint differs from random-model's $3 gguf"
done

# A mixture: converting straight to Q4_K_M / Q3_K_M writes the very file that converting to
# f32 and then `quantize`-ing to the mixture writes (same types, bytes and file_type).
for spec in "tiny-llama q4_k_m" "tiny-deepseek2 Q3_K_M"; do
  set -- $spec
  "$dsinfer" convert "$dir/same-$1" -o "$dir/mix-$1.gguf" --type "$2" --name m >/dev/null 2>&1
  "$dsinfer" convert "$dir/same-$1" -o "$dir/f32-$1.gguf" --type f32 --name m >/dev/null 2>&1
  "$dsinfer" quantize "$dir/f32-$1.gguf" "$dir/q-$1.gguf" "$2" >/dev/null 2>&1
  [ -s "$dir/mix-$1.gguf" ] && cmp -s "$dir/mix-$1.gguf" "$dir/q-$1.gguf" && pass ||
    fail "convert --type $2 of $1 differs from convert + quantize $2"
done
# An HF checkpoint loaded as Q4_K_M (--hf-type) holds the weights of its Q4_K_M conversion:
# the same logits, bit for bit.
ids="--prompt-ids 1,2,3 -n 2 --temp 0 --print-ids"
"$dsinfer" run -m "$dir/same-tiny-llama" --hf-type q4_k_m $ids --logits-out "$dir/hf.logits" \
  >/dev/null 2>&1
"$dsinfer" run -m "$dir/mix-tiny-llama.gguf" $ids --logits-out "$dir/gguf.logits" >/dev/null 2>&1
[ -s "$dir/hf.logits" ] && cmp -s "$dir/hf.logits" "$dir/gguf.logits" && pass ||
  fail "run --hf-type q4_k_m differs from the Q4_K_M conversion"
# Ids in from an HF directory without tokenizer.json: ids out, with a note, as for a GGUF
# without a vocabulary.
out=$("$dsinfer" run -m "$dir/same-tiny-llama" --prompt-ids 1,2,3 -n 2 --temp 0 2>"$dir/err")
rc=$?
[ "$rc" -eq 0 ] && [[ "$out" =~ ^[0-9]+,[0-9]+$ ]] && pass || fail "ids from HF dir: $rc '$out'"
expect_contains "$(cat "$dir/err")" \
  "no tokenizer.json in this directory; printing the generated ids" "ids-only note"
text=$("$dsinfer" run -m "$dir/same-tiny-llama" --hf-type q4_k_x --prompt-ids 1 -n 1 2>&1)
expect_contains "$text" "--hf-type: 'q4_k_x' is not a type" "bad --hf-type"
text=$("$dsinfer" inspect "$dir/mix-tiny-llama.gguf" 2>&1)
expect_contains "$text" "general.file_type" "mixture file type key"
if grep -Eq "general\.file_type +UINT32 +15" <<<"$text"; then pass; else fail "Q4_K_M file_type"; fi

# A tokenizer.json (byte-level BPE with Qwen2's pre-tokenizer) becomes tokenizer metadata.
hf="$dir/tiny-qwen2-bf16"
python3 - "$hf" <<'EOF'
import json, sys
bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
byte_char = {b: chr(c) for b, c in zip(bs, cs)}
vocab = {byte_char[b]: b for b in range(256)}
merges = []
for a, b in [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("\u0120", "w"), ("o", "r")]:
    merges.append(a + " " + b); vocab[a + b] = len(vocab)
added = [{"id": 300, "content": "<|bos|>", "special": True}, {"id": 301, "content": "<|eos|>", "special": True}]
for t in added:
    t.update({"lstrip": False, "rstrip": False, "single_word": False, "normalized": False})
regex = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
         "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
tok = {"version": "1.0", "added_tokens": added, "normalizer": None, "post_processor": None,
       "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
           {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
           {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
       "decoder": {"type": "ByteLevel"},
       "model": {"type": "BPE", "dropout": None, "vocab": vocab, "merges": merges}}
json.dump(tok, open(sys.argv[1] + "/tokenizer.json", "w"))
json.dump({"bos_token": "<|bos|>", "eos_token": "<|eos|>", "add_bos_token": False,
           "chat_template": "{{ messages }}"}, open(sys.argv[1] + "/tokenizer_config.json", "w"))
EOF
text=$("$dsinfer" convert "$hf" -o "$dir/tok.gguf" --type q8_0 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "convert with tokenizer exit $rc: $text"
expect_contains "$text" "pre-tokenizer qwen2" "tokenizer preset recognised"
text=$("$dsinfer" inspect "$dir/tok.gguf" 2>&1)
expect_contains "$text" 'tokenizer.ggml.pre' "tokenizer metadata"
grep -Eq 'tokenizer\.ggml\.bos_token_id +UINT32 +300$' <<<"$text" && pass ||
  fail "bos from tokenizer_config.json (300), not config.json"
sample='hello world <|bos|> 123 héllo'
a=$(printf '%s' "$sample" | "$dsinfer" tokenize -m "$hf" --special 2>&1)
b=$(printf '%s' "$sample" | "$dsinfer" tokenize -m "$dir/tok.gguf" --special 2>&1)
[ -n "$a" ] && [ "$a" == "$b" ] && pass || fail "tokenizer.json and GGUF tokenize alike: $a vs $b"

# errors: exit 1, a message naming the tensor, no output file
bad="$dir/bad"
cp -r "$dir/tiny-llama-f32" "$bad"
python3 - "$bad/model.safetensors" <<'EOF'
import json, struct, sys
path = sys.argv[1]
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
header["model.layers.1.mlp.up_proj.weight"]["shape"] = [64, 128]  # transposed: [128, 64] is right
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
open(path, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
EOF
text=$("$dsinfer" convert "$bad" -o "$dir/bad.gguf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "wrong shape exit $rc"
expect_contains "$text" "tensor model.layers.1.mlp.up_proj.weight (for GGUF blk.1.ffn_up.weight): shape [64, 128], expected [128, 64]" "wrong shape message"
[ ! -e "$dir/bad.gguf" ] && [ ! -e "$dir/bad.gguf.tmp" ] && pass || fail "no file written on error"
text=$("$dsinfer" convert "$dir/nope" -o "$dir/x.gguf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "missing dir exit $rc"
text=$("$dsinfer" convert "$dir/tiny-llama-f32" -o "$dir/x.gguf" --type q8_k 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "activation type exit $rc"
finish
