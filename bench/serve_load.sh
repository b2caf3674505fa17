#!/usr/bin/env bash
# The serving benchmark (bench/README.md "Serving"): makes a multi-GiB random model with
# DeepSeek-V3's tokenizer (once; kept in $MODEL_DIR, outside the repository), starts
# `dsinfer serve` on a free port of 127.0.0.1, runs bench/serve_load at each concurrency
# level, and stops the server with SIGTERM. Every wait is bounded.
#
#   bench/serve_load.sh [BUILD_DIR] [serve_load flags...]
#
# BUILD_DIR (default build) holds src/app/dsinfer and bench/serve_load. Flags after it go to
# serve_load (they override the defaults below: --concurrency 1,8,32 --max-tokens 64
# --prompt-tokens 32 --json $MODEL_DIR/serve_load-NAME.json). Environment: MODEL_DIR
# (/tmp/dsinfer-serve-load), ARCH (qwen2), LIKE (r1-distill-qwen-1.5b), TYPE (q8_0), SEED (1),
# THREADS (2, the server's compute threads), KV_BYTES (1000000000), MAX_MODEL_LEN (2048).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
case "$build" in /*) ;; *) build="$root/$build" ;; esac
dsinfer="$build/src/app/dsinfer"
serve_load="$build/bench/serve_load"
for exe in "$dsinfer" "$serve_load"; do
  [ -x "$exe" ] || { echo "serve_load.sh: $exe is not built" >&2; exit 2; }
done

model_dir=${MODEL_DIR:-/tmp/dsinfer-serve-load}
arch=${ARCH:-qwen2}
like=${LIKE:-r1-distill-qwen-1.5b}
type=${TYPE:-q8_0}
seed=${SEED:-1}
tokenizer="$root/.cache/deepseek-v3"
model="$model_dir/$like-$type-dsv3tok-s$seed.gguf"
name="$like-$type"

mkdir -p "$model_dir"
if [ ! -f "$tokenizer/tokenizer.json" ]; then
  echo "serve_load.sh: $tokenizer/tokenizer.json is missing (scripts/fetch-test-assets.sh)" >&2
  exit 2
fi
if [ ! -f "$model" ]; then
  echo "making $model" >&2
  "$dsinfer" random-model --arch "$arch" --like "$like" --type "$type" --seed "$seed" \
    --tokenizer "$tokenizer" -o "$model.tmp" >&2
  mv "$model.tmp" "$model"
fi

log="$model_dir/serve.log"
server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 600); do  # <= 60 s to drain and exit
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "serve_load.sh: the server ignored SIGTERM for 60 s; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

"$dsinfer" serve -m "$model" --served-model-name "$name" --host 127.0.0.1 --port 0 \
  --threads "${THREADS:-2}" --kv-cache-bytes "${KV_BYTES:-1000000000}" \
  --max-model-len "${MAX_MODEL_LEN:-2048}" 2>"$log" &
server_pid=$!
port=""
for _ in $(seq 1 600); do  # <= 60 s until it listens
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | head -n 1 | sed 's/.*://' || true)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "serve_load.sh: the server did not start:" >&2; cat "$log" >&2; exit 1
fi
ready=""
for _ in $(seq 1 3000); do  # <= 300 s to load the model
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ]; then
    ready=1
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "serve_load.sh: /ready never answered 200:" >&2; cat "$log" >&2; exit 1
fi
echo "server ready on 127.0.0.1:$port ($model, $(du -h "$model" | cut -f1)); load: $(uptime)" >&2

rc=0
"$serve_load" --port "$port" --model "$name" --concurrency 1,8,32 --max-tokens 64 \
  --prompt-tokens 32 --json "$model_dir/serve_load-$name.json" "$@" || rc=$?
echo "load after the run: $(uptime)" >&2
stop_server
exit "$rc"
