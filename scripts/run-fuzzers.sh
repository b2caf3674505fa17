#!/usr/bin/env bash
# Runs every libFuzzer binary in BUILD/fuzz for SECONDS each, JOBS of them at a time (default: one
# per core), seeded from tests/data/<name>/ (fuzzer NAME_fuzzer reads seeds from tests/data/NAME,
# and the jinja fuzzer also from the chat templates in tests/data/chat_templates). New inputs go
# to a scratch corpus so the committed seeds stay small. Exits non-zero if any fuzzer found a
# crash, leak or timeout; its inputs are kept in BUILD/fuzz-artifacts.
set -euo pipefail
build=$(realpath "${1:-build-asan}")
seconds=${2:-60}
jobs=${JOBS:-$(nproc)}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
fuzzers=("$build"/fuzz/*_fuzzer)
[ ${#fuzzers[@]} -gt 0 ] || { echo "run-fuzzers: no fuzzers in $build/fuzz" >&2; exit 1; }

# One fuzzer, start to end; prints its log's tail in one piece so parallel runs do not interleave.
run_one() {
  local fuzzer=$1 name work status
  name=$(basename "$fuzzer" _fuzzer)
  work=$(mktemp -d "/tmp/dsinfer-fuzz-$name.XXXXXX")
  local seed_dirs=("$root/tests/data/$name")
  [ "$name" = jinja ] && seed_dirs+=("$root/tests/data/chat_templates")
  for dir in "${seed_dirs[@]}"; do
    [ -d "$dir" ] || continue
    find "$dir" -type f ! -name '*.md' ! -name '*.py' ! -name '*.json' -exec cp --backup=numbered {} "$work/" \;
  done
  local seeds
  seeds=$(ls "$work" | wc -l)
  # -rss_limit_mb bounds memory; -timeout flags any single input slower than 10 s as a hang.
  set +e
  (cd "$work" && "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" "$work" >"$work.log" 2>&1)
  status=$?
  set -e
  printf 'run-fuzzers: %s ran %ss from %s seeds\n%s\n' "$name" "$seconds" "$seeds" \
    "$(tail -n 12 "$work.log")"
  if [ "$status" -ne 0 ]; then
    mkdir -p "$build/fuzz-artifacts"
    cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$build/fuzz-artifacts/" \
      2>/dev/null || true
    echo "run-fuzzers: $name FAILED (status $status); inputs kept in $build/fuzz-artifacts" >&2
    return 1
  fi
  rm -rf "$work" "$work.log"
}

failed=0
running=0
wait_for_one() {
  wait -n || failed=1
  running=$((running - 1))
}
for fuzzer in "${fuzzers[@]}"; do
  [ "$running" -lt "$jobs" ] || wait_for_one
  run_one "$fuzzer" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do wait_for_one; done
[ "$failed" -eq 0 ] || { echo "run-fuzzers: a fuzzer failed (see above)" >&2; exit 1; }
echo "run-fuzzers: all ${#fuzzers[@]} fuzzers ran ${seconds}s clean"
