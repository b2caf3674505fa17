# Helpers for the server integration tests: sourced, not run. They make a tiny random model
# with a tokenizer that covers its vocabulary, start `dsinfer serve` on a free port of
# 127.0.0.1, and stop it with SIGTERM. Every wait is bounded.
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

server_dir=$(mktemp -d)
server_pid=""
server_log="$server_dir/serve.log"  # stderr: start-up lines and the access log
port=""
base=""

cleanup_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
  fi
  rm -rf "$server_dir"
}
trap cleanup_server EXIT

# make_model DSINFER: $server_dir/tiny.gguf (deepseek2: MLA + MoE, context 2560) and the
# tokenizer in $server_dir/tok.
make_model() {
  "$1" random-model --arch deepseek2 --type q8_0 --seed 11 -o "$server_dir/tiny.gguf" >/dev/null ||
    { echo "FAIL: random-model"; exit 1; }
  /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/make_tiny_tokenizer.py" "$server_dir/tok" ||
    { echo "FAIL: make_tiny_tokenizer.py"; exit 1; }
}

# start_server DSINFER [FLAGS...]: starts the server on port 0 and waits (<= 30 s) until
# /ready answers 200. Sets port, base and server_pid. The model is make_model's, served as
# "tiny", unless server_model (a GGUF with its own tokenizer) and server_model_name are set.
start_server() {
  local dsinfer=$1
  shift
  local model_args=(-m "$server_dir/tiny.gguf" --tokenizer "$server_dir/tok/tokenizer.json"
                    --served-model-name tiny)
  if [ -n "${server_model:-}" ]; then
    model_args=(-m "$server_model" --served-model-name "${server_model_name:-default}")
  fi
  "$dsinfer" serve "${model_args[@]}" --port 0 --threads 1 --kv-cache-bytes 16000000 "$@" \
    2>"$server_log" &
  server_pid=$!
  for _ in $(seq 1 300); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$server_log" | head -n 1 | sed 's/.*://')
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "FAIL: the server did not start:"; cat "$server_log"; exit 1
  fi
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready")" = 200 ] && return 0
    sleep 0.1
  done
  echo "FAIL: /ready never answered 200:"; cat "$server_log"; exit 1
}

# stop_server: SIGTERM, then wait_server_exit.
stop_server() {
  kill -TERM "$server_pid"
  wait_server_exit
}

# wait_server_exit: the process must exit 0 within 20 s.
wait_server_exit() {
  for _ in $(seq 1 200); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    fail "server still running 20 s after SIGTERM"
    return
  fi
  wait "$server_pid"
  local rc=$?
  [ "$rc" -eq 0 ] && pass || fail "server exited $rc after SIGTERM"
  server_pid=""
}

# expect_status WHAT EXPECTED ACTUAL
expect_status() {
  if [ "$3" = "$2" ]; then pass; else fail "$1: expected HTTP $2, got $3"; fi
}

# metric NAME_WITH_LABELS: its value in /metrics ("" if absent).
metric() {
  curl -s "$base/metrics" | awk -v name="$1" '$1 == name { print $2 }'
}

# json_field JSON PYTHON_EXPRESSION_OF_j
json_field() {
  /usr/bin/python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' \
    "$1" "$2" 2>/dev/null
}
