#!/usr/bin/env bash
# Runs every libFuzzer binary in BUILD/fuzz for SECONDS each, seeded from tests/data/<name>/
# (fuzzer NAME_fuzzer reads seeds from tests/data/NAME, and the jinja fuzzer also from the chat
# templates in tests/data/chat_templates). New inputs go to a scratch corpus so
# the committed seeds stay small. Exits non-zero on the first crash, leak or timeout.
set -euo pipefail
build=${1:-build-asan}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
fuzzers=("$build"/fuzz/*_fuzzer)
[ ${#fuzzers[@]} -gt 0 ] || { echo "run-fuzzers: no fuzzers in $build/fuzz" >&2; exit 1; }
for fuzzer in "${fuzzers[@]}"; do
  name=$(basename "$fuzzer" _fuzzer)
  seeds="$root/tests/data/$name"
  work=$(mktemp -d "/tmp/dsinfer-fuzz-$name.XXXXXX")
  seed_dirs=("$seeds")
  [ "$name" = jinja ] && seed_dirs+=("$root/tests/data/chat_templates")
  for dir in "${seed_dirs[@]}"; do
    [ -d "$dir" ] || continue
    find "$dir" -type f ! -name '*.md' ! -name '*.py' ! -name '*.json' -exec cp --backup=numbered {} "$work/" \;
  done
  echo "run-fuzzers: $name for ${seconds}s from $(ls "$work" | wc -l) seeds"
  # -rss_limit_mb bounds memory; -timeout flags any single input slower than 10 s as a hang.
  set +e
  (cd "$work" && "$root/$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" "$work" >"$work.log" 2>&1)
  status=$?
  set -e
  tail -n 12 "$work.log"
  if [ "$status" -ne 0 ]; then
    mkdir -p "$build/fuzz-artifacts"
    cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$build/fuzz-artifacts/" 2>/dev/null
    echo "run-fuzzers: $name FAILED (status $status); inputs kept in $build/fuzz-artifacts" >&2
    exit 1
  fi
  rm -rf "$work" "$work.log"
done
echo "run-fuzzers: all fuzzers ran ${seconds}s clean"
