#!/usr/bin/env bash
# Style gates for CI: the layer check and clang-format on every file (cheap), clang-tidy on the
# C++ sources that the last LINT_COMMITS commits (default 6) touched: a source file of src/
# costs ~5-40 s of one core (about half of it the clang-analyzer checks; test files skip those,
# tests/.clang-tidy, and cost ~6 s), so the ~170 files of 30 commits took 13 of CI's minutes on
# 2 cores, and one session's commits now touch ~150 files. Whoever lands more than 6 commits
# tidies the rest before stopping (LINT_COMMITS=N make lint).
# LINT_COMMITS=all tidies everything.
# Usage: scripts/lint.sh BUILD_DIR   (BUILD_DIR must hold compile_commands.json)
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

/usr/bin/python3 scripts/check-layers.py

mapfile -t all < <(git ls-files '*.cc' '*.h')
echo "lint: clang-format on ${#all[@]} files"
clang-format --dry-run --Werror "${all[@]}"

commits=${LINT_COMMITS:-6}
range=()
if [ "$commits" != all ] && git rev-parse -q --verify "HEAD~$commits" >/dev/null; then
  range=("HEAD~$commits..HEAD")
fi
mapfile -t recent < <(git log "${range[@]}" --name-only --format= -- 'src/*.cc' 'tests/*.cc' \
  'fuzz/*.cc' 'bench/*.cc' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
# clang-tidy checks headers through the sources that include them; tidy .cc files only.
mapfile -t sources < <(printf '%s\n' "${recent[@]}" | grep '\.cc$' || true)
if [ ${#sources[@]} -eq 0 ]; then
  echo "lint: no C++ sources in the last $commits commits; clang-tidy skipped"
  exit 0
fi
echo "lint: clang-tidy on ${#sources[@]} files of the last $commits commits"
# The compile database comes from a GCC build: clang-tidy must ignore GCC-only warning flags.
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet \
  --extra-arg=-Wno-unknown-warning-option
echo "lint: clean"
