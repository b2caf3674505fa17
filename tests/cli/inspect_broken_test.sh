#!/usr/bin/env bash
# Every file of the broken-GGUF corpus makes `dsinfer inspect` exit 1 with a message naming the
# file and the rule it breaks: no crash (exit >= 128), no hang (timeout), no success.
source "$(dirname "$0")/lib.sh"
dsinfer=$1
data=$2
corpus="$data/gguf/broken"
while IFS=$'\t' read -r file phrase; do
  [[ -z "$file" || "$file" == \#* ]] && continue
  path="$corpus/$file"
  err=$(timeout 20 "$dsinfer" inspect "$path" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 1 ]; then pass; else fail "$file: exit code $rc, expected 1 ($err)"; fi
  expect_contains "$err" "dsinfer inspect: error: $path" "$file names the file"
  expect_contains "$err" "$phrase" "$file"
  "$dsinfer" inspect --json "$path" >/dev/null 2>&1
  rc=$?
  if [ "$rc" -eq 1 ]; then pass; else fail "$file --json: exit code $rc"; fi
done < "$corpus/expected.tsv"

# Paths that are not model files at all.
err=$("$dsinfer" inspect /nonexistent/model.gguf 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "missing file: exit $rc"
expect_contains "$err" "/nonexistent/model.gguf" "missing file is named"
tmp=$(mktemp -d)
printf 'hello world, not a model' > "$tmp/notes.txt"
err=$("$dsinfer" inspect "$tmp/notes.txt" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "text file: exit $rc"
expect_contains "$err" "not a GGUF file" "text file"
err=$("$dsinfer" inspect "$tmp" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "empty directory: exit $rc"
expect_contains "$err" "$tmp" "empty directory is named"
rm -rf "$tmp"
finish
