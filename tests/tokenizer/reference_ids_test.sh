#!/usr/bin/env bash
# `dsinfer tokenize --jsonl --special` must give the reference's ids (@lenml/tokenizers, a
# transformers.js fork) for every line of the generated corpus, with DeepSeek-V3's real
# tokenizer.json. The assets come from scripts/fetch-test-assets.sh (run by install-deps.sh);
# without them the test exits 77, which ctest reports as skipped.
# Usage: reference_ids_test.sh DSINFER SOURCE_DIR
set -uo pipefail
dsinfer=$1
root=$2
here="$root/tests/tokenizer"
assets="$root/.cache/deepseek-v3"
tokenizers_mjs="$root/.cache/npm/node_modules/@lenml/tokenizers/dist/main.mjs"
if [ ! -f "$assets/tokenizer.json" ] || [ ! -f "$assets/tokenizer_config.json" ] ||
   [ ! -f "$tokenizers_mjs" ] || ! command -v node >/dev/null; then
  echo "SKIP: reference assets absent (run scripts/fetch-test-assets.sh)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 "$here/make_corpus.py" "$tmp/corpus.jsonl" || exit 1
node "$here/reference_ids.mjs" "$tokenizers_mjs" "$assets" "$tmp/corpus.jsonl" \
  > "$tmp/reference.jsonl" || { echo "FAIL: reference tokenizer did not run"; exit 1; }
"$dsinfer" tokenize -m "$assets" --jsonl --special < "$tmp/corpus.jsonl" > "$tmp/ours.jsonl" ||
  { echo "FAIL: dsinfer tokenize exited non-zero"; exit 1; }

/usr/bin/python3 - "$tmp/corpus.jsonl" "$tmp/reference.jsonl" "$tmp/ours.jsonl" <<'PY'
import json, sys
corpus, ref, ours = (open(p, encoding="utf-8").read().splitlines() for p in sys.argv[1:4])
if len(ref) != len(corpus) or len(ours) != len(corpus):
    print(f"FAIL: line counts differ: corpus {len(corpus)}, reference {len(ref)}, ours {len(ours)}")
    sys.exit(1)
bad = [i for i in range(len(corpus)) if json.loads(ref[i]) != json.loads(ours[i])]
print(f"{len(corpus) - len(bad)}/{len(corpus)} lines identical")
for i in bad[:5]:
    a, b = json.loads(ref[i]), json.loads(ours[i])
    first = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    print(f"FAIL line {i + 1}: {json.loads(corpus[i])[:120]!r}")
    print(f"  first difference at id index {first}: reference {a[first:first + 8]}, "
          f"dsinfer {b[first:first + 8]}")
print(f"{len(corpus) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
PY
