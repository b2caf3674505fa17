#!/usr/bin/env bash
# Runs openai_client_test.mjs (the official `openai` npm client) against `dsinfer serve`,
# then stops the server with SIGTERM: it must exit 0. Skipped (77) without node or the
# package, which scripts/fetch-test-assets.sh installs.
# Usage: openai_client_test.sh DSINFER SOURCE_DIR
source "$(dirname "$0")/lib.sh"
dsinfer=$1
openai_mjs="$2/.cache/npm/node_modules/openai/index.mjs"
if ! command -v node >/dev/null || [ ! -f "$openai_mjs" ]; then
  echo "SKIP: node or the openai package absent (run scripts/fetch-test-assets.sh)"
  exit 77
fi
make_model "$dsinfer"
start_server "$dsinfer"
timeout 120 node "$(dirname "$0")/openai_client_test.mjs" "$openai_mjs" "$base" tiny && pass ||
  fail "openai client cases"
stop_server
# The disconnected stream was cancelled (499), not run to its 2400 tokens.
cancelled=$(grep '"status":499' "$server_log" | grep '"finish_reason":"cancelled"' | head -n 1)
[ "$(json_field "$cancelled" 'j["completion_tokens"] < 2400')" = True ] && pass ||
  fail "no cancelled request in the access log"
finish
