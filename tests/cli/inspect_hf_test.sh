#!/usr/bin/env bash
# `dsinfer inspect` on HF checkpoints: a directory with config.json (+ generation_config.json)
# and safetensors, single-file and sharded with an index; plus broken safetensors files.
source "$(dirname "$0")/lib.sh"
dsinfer=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A V3-shaped directory: the real config keys, a single model.safetensors.
mkdir -p "$tmp/v3"
cp "$data/hf/deepseek_v3/config.json" "$data/hf/deepseek_v3/generation_config.json" "$tmp/v3/"
cp "$data/safetensors/tiny.safetensors" "$tmp/v3/model.safetensors"
text=$("$dsinfer" inspect "$tmp/v3"); rc=$?
[ "$rc" -eq 0 ] && pass || fail "inspect dir exit $rc: $text"
expect_contains "$text" "Hugging Face checkpoint" "kind"
expect_contains "$text" "architecture:  deepseek_v3" "architecture"
expect_contains "$text" "kv_lora_rank" "MLA hyper-parameters"
expect_contains "$text" "noaux_tc" "routing"
expect_contains "$text" "model.embed_tokens.weight" "tensor table"
json=$("$dsinfer" inspect --json "$tmp/v3"); rc=$?
[ "$rc" -eq 0 ] && pass || fail "inspect --json dir exit $rc"
check=$(printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
h = r["hyperparameters"]
ok = (r["format"] == "hf" and h["hidden_size"] == 7168 and h["n_routed_experts"] == 256
      and h["q_lora_rank"] == 1536 and h["quantization"]["weight_block_size"] == [128, 128]
      and h["rope_scaling"]["type"] == "yarn" and "generation_config" in r
      and r["totals"]["tensors"] == 3 and len(r["shards"]) == 1)
print("ok" if ok else "mismatch: " + json.dumps(h)[:300])
')
expect_contains "$check" "ok" "HF JSON report"

# Sharded with an index: two shards built from the same tiny file under different names.
mkdir -p "$tmp/sharded"
cp "$data/hf/r1_distill_qwen_32b/config.json" "$tmp/sharded/"
/usr/bin/python3 - "$tmp/sharded" <<'PY'
import json, struct, sys
out = sys.argv[1]
def shard(path, names):
    header, data = {}, b""
    for n in names:
        header[n] = {"dtype": "F32", "shape": [2], "data_offsets": [len(data), len(data) + 8]}
        data += struct.pack("<2f", 1.5, -2.0)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # as real writers do: keeps every tensor aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + data)
shard(f"{out}/model-00001-of-00002.safetensors", ["model.norm.weight", "lm_head.weight"])
shard(f"{out}/model-00002-of-00002.safetensors", ["model.embed_tokens.weight"])
index = {"metadata": {"total_size": 24}, "weight_map": {
    "model.norm.weight": "model-00001-of-00002.safetensors",
    "lm_head.weight": "model-00001-of-00002.safetensors",
    "model.embed_tokens.weight": "model-00002-of-00002.safetensors"}}
json.dump(index, open(f"{out}/model.safetensors.index.json", "w"))
PY
text=$("$dsinfer" inspect "$tmp/sharded"); rc=$?
[ "$rc" -eq 0 ] && pass || fail "sharded exit $rc: $text"
expect_contains "$text" "shards:        2" "two shards"
expect_contains "$text" "architecture:  qwen2" "qwen2"
expect_contains "$text" "totals: 3 tensors" "tensors across shards"
rm "$tmp/sharded/model-00002-of-00002.safetensors"
err=$("$dsinfer" inspect "$tmp/sharded" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "missing shard exit $rc"
expect_contains "$err" "model-00002-of-00002.safetensors" "missing shard is named"

# A directory whose config.json is broken.
mkdir -p "$tmp/badcfg"
printf '{"model_type": "deepseek_v3", "hidden_size": "big"}' > "$tmp/badcfg/config.json"
err=$("$dsinfer" inspect "$tmp/badcfg" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "bad config exit $rc"
expect_contains "$err" "hidden_size" "bad field is named"

# Every broken safetensors file fails cleanly, naming the file.
for f in "$data"/safetensors/broken/*.safetensors; do
  err=$(timeout 20 "$dsinfer" inspect "$f" 2>&1); rc=$?
  [ "$rc" -eq 1 ] && pass || fail "$(basename "$f"): exit $rc ($err)"
  expect_contains "$err" "$f" "$(basename "$f") names the file"
done
finish
