#!/usr/bin/env bash
# Runs every benchmark binary in BUILD/bench and prints their tables (medians of repetitions).
set -euo pipefail
build=${1:-build}
shopt -s nullglob
for bench in "$build"/bench/*_bench; do
  echo "=== $(basename "$bench")"
  "$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "${@:2}"
done
