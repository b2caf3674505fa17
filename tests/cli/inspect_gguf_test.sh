#!/usr/bin/env bash
# `dsinfer inspect` on a GGUF written by llama.cpp's gguf-py: text and JSON views agree with
# what gguf-py itself read back (tests/data/gguf/llamacpp_writer.expected.json).
source "$(dirname "$0")/lib.sh"
dsinfer=$1
data=$2
file="$data/gguf/llamacpp_writer.gguf"

text=$("$dsinfer" inspect "$file"); rc=$?
[ "$rc" -eq 0 ] && pass || fail "inspect exit $rc"
expect_contains "$text" "GGUF v3" "version"
expect_contains "$text" "architecture:  llama" "architecture"
expect_contains "$text" "embedding_length" "hyper-parameters listed"
expect_contains "$text" "tokenizer.ggml.tokens" "metadata listed"
expect_contains "$text" "[STRING x 16]" "array summarised"
expect_contains "$text" "blk.0.ffn_down.weight" "tensor listed"
expect_contains "$text" "q8_0" "dtype shown"
expect_contains "$text" "totals: 7 tensors" "totals"

json=$("$dsinfer" inspect --json "$file"); rc=$?
[ "$rc" -eq 0 ] && pass || fail "inspect --json exit $rc"
check=$(printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
report = json.load(sys.stdin)
expected = json.load(open(sys.argv[1]))
errors = []
def check(cond, what):
    if not cond: errors.append(what)
check(report["format"] == "gguf", "format")
check(report["version"] == expected["version"], "version")
check(report["data_offset"] == expected["data_offset"], "data_offset")
check(report["hyperparameters"]["embedding_length"] == 64, "hyperparameters")
check([m["key"] for m in report["metadata"]] == [m["key"] for m in expected["metadata"]], "keys")
got = [(t["name"], t["ne"], t["offset"], t["bytes"]) for t in report["tensors"]]
want = [(t["name"], t["ne"], t["offset"], t["n_bytes"]) for t in expected["tensors"]]
check(got == want, "tensor table")
check(report["totals"]["parameters"] == sum(t["n_elements"] for t in expected["tensors"]), "params")
print("ok" if not errors else "mismatch: " + ", ".join(errors))
' "$data/gguf/llamacpp_writer.expected.json")
expect_contains "$check" "ok" "JSON report matches gguf-py's reading"
finish
