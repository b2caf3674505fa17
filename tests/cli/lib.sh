# Shared helpers for the CLI tests: sourced, not run. Every check counts toward the summary.
set -u
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
expect_contains() {  # haystack needle what
  if [[ "$1" == *"$2"* ]]; then pass; else fail "$3: expected to contain '$2', got: ${1:0:400}"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
