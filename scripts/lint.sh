#!/usr/bin/env bash
# Style gates for CI: clang-format on every C++ file (cheap), clang-tidy on the C++ files that
# commits of the last LINT_SINCE (default "6 hours ago", about one working session) touched,
# since tidying the whole tree on 2 cores would take most of the CI budget.
# Usage: scripts/lint.sh BUILD_DIR   (BUILD_DIR must hold compile_commands.json)
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

/usr/bin/python3 scripts/check-layers.py

mapfile -t all < <(git ls-files '*.cc' '*.h')
echo "lint: clang-format on ${#all[@]} files"
clang-format --dry-run --Werror "${all[@]}"

since=${LINT_SINCE:-6 hours ago}
mapfile -t recent < <(git log --since="$since" --name-only --format= -- 'src/*.cc' 'src/*.h' \
  'tests/*.cc' 'fuzz/*.cc' 'bench/*.cc' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
# clang-tidy checks headers through the sources that include them; tidy .cc files only.
mapfile -t sources < <(printf '%s\n' "${recent[@]}" | grep '\.cc$' || true)
if [ ${#sources[@]} -eq 0 ]; then
  echo "lint: no C++ sources changed since $since; clang-tidy skipped"
  exit 0
fi
echo "lint: clang-tidy on ${#sources[@]} files changed since $since"
# The compile database comes from a GCC build: clang-tidy must ignore GCC-only warning flags.
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet \
  --extra-arg=-Wno-unknown-warning-option
echo "lint: clean"
