#!/usr/bin/env bash
# `dsinfer serve` over real HTTP with curl: the OpenAI routes (chat and completions, streamed
# and not), probes, metrics, the access log, every error status, a slow client, and a
# graceful drain on SIGTERM. Usage: api_test.sh DSINFER
source "$(dirname "$0")/lib.sh"
dsinfer=$1
make_model "$dsinfer"
start_server "$dsinfer" --max-body-bytes 65536 --header-timeout 1

# Probes and the model list.
expect_contains "$(curl -s "$base/health")" '"status":"ok"' "/health"
expect_contains "$(curl -s "$base/ready")" '"status":"ready"' "/ready"
models=$(curl -s "$base/v1/models")
[ "$(json_field "$models" 'j["data"][0]["id"]')" = tiny ] && pass || fail "/v1/models: $models"
expect_status "/v1/models/tiny" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models/tiny")"
expect_status "/v1/models/other" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models/other")"

# Chat, whole response. The prompt text must never reach the access log.
secret="zebra quokka secret"
chat=$(curl -s "$base/v1/chat/completions" -H 'Content-Type: application/json' \
  -d "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"$secret\"}],\"max_tokens\":12,\"ignore_eos\":true}")
[ "$(json_field "$chat" 'j["object"]')" = chat.completion ] && pass || fail "chat: $chat"
[ "$(json_field "$chat" 'j["choices"][0]["message"]["role"]')" = assistant ] && pass ||
  fail "chat role: $chat"
[ "$(json_field "$chat" 'j["usage"]["completion_tokens"]')" = 12 ] && pass ||
  fail "chat completion_tokens: $chat"
[ "$(json_field "$chat" 'j["choices"][0]["finish_reason"]')" = length ] && pass ||
  fail "chat finish_reason: $chat"

# Chat, streamed: a role chunk first, content chunks, a finish chunk, then [DONE].
stream=$(curl -sN "$base/v1/chat/completions" \
  -d '{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"ignore_eos":true,"stream":true}')
[ "$(printf '%s\n' "$stream" | grep -c '^data: ')" -ge 4 ] && pass || fail "chat stream: $stream"
[ "$(printf '%s\n' "$stream" | grep '^data: ' | tail -n 1)" = "data: [DONE]" ] && pass ||
  fail "chat stream does not end with [DONE]"
first=$(printf '%s\n' "$stream" | grep '^data: ' | head -n 1 | cut -c 7-)
[ "$(json_field "$first" 'j["choices"][0]["delta"]["role"]')" = assistant ] && pass ||
  fail "first chunk: $first"

# Completions from token ids, whole and streamed.
completion=$(curl -s "$base/v1/completions" \
  -d '{"model":"tiny","prompt":[5,17,300,42],"max_tokens":6,"ignore_eos":true}')
[ "$(json_field "$completion" 'j["usage"]["prompt_tokens"]')" = 4 ] && pass ||
  fail "completion: $completion"
[ "$(json_field "$completion" 'j["object"]')" = text_completion ] && pass || fail "completion object"
stream=$(curl -sN "$base/v1/completions" \
  -d '{"model":"tiny","prompt":"abc","max_tokens":5,"ignore_eos":true,"stream":true}')
[ "$(printf '%s\n' "$stream" | grep '^data: ' | tail -n 1)" = "data: [DONE]" ] && pass ||
  fail "completion stream: $stream"

# Errors, in OpenAI's shape.
body=$(curl -s -w '\n%{http_code}' "$base/v1/chat/completions" -d '{"model": "tiny", "messages": [')
expect_status "malformed JSON" 400 "${body##*$'\n'}"
[ "$(json_field "${body%$'\n'*}" 'j["error"]["type"]')" = invalid_request_error ] && pass ||
  fail "malformed JSON body: $body"
body=$(curl -s -w '\n%{http_code}' "$base/v1/chat/completions" \
  -d '{"model":"tiny","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}')
expect_status "wrong type" 400 "${body##*$'\n'}"
[ "$(json_field "${body%$'\n'*}" 'j["error"]["param"]')" = max_tokens ] && pass ||
  fail "wrong type names the field: $body"
body=$(curl -s -w '\n%{http_code}' "$base/v1/completions" -d '{"model":"nope","prompt":"x"}')
expect_status "unknown model" 404 "${body##*$'\n'}"
[ "$(json_field "${body%$'\n'*}" 'j["error"]["code"]')" = model_not_found ] && pass ||
  fail "unknown model code: $body"
head -c 100000 /dev/zero | tr '\0' 'a' > "$server_dir/big.json"
expect_status "100 KB body" 413 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/completions" --data-binary @"$server_dir/big.json")"
head -c 3000000 /dev/zero | tr '\0' 'a' > "$server_dir/huge.json"
expect_status "3 MB body (Expect: 100-continue)" 413 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' "$base/v1/completions" \
     --data-binary @"$server_dir/huge.json")"
expect_status "unknown path" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$base/v2/nothing")"
expect_status "wrong method" 405 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions")"

# A client that sends half a header: 408 after header_timeout (1 s); others are served
# meanwhile without delay.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le' >&3
start=$(date +%s%N)
expect_contains "$(curl -s --max-time 2 "$base/health")" '"status":"ok"' "health beside a slow client"
fast_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$fast_ms" -lt 900 ] && pass || fail "a request beside a slow client took $fast_ms ms"
slow=$(timeout 5 head -n 1 <&3)
expect_contains "$slow" "408" "slow client"
exec 3<&-

# Metrics: counts by route and status class, latency histograms, KV blocks back to 0.
expect_contains "$(metric 'dsinfer_http_requests_total{route="/v1/chat/completions",status="2xx"}')" \
  "2" "chat 2xx count"
[ "$(metric 'dsinfer_http_requests_total{route="/v1/chat/completions",status="4xx"}')" = 3 ] &&
  pass || fail "chat 4xx count (400, 400, 405)"
[ "$(metric 'dsinfer_http_requests_total{route="other",status="4xx"}')" -ge 4 ] && pass ||
  fail "protocol-level 4xx count (413, 413, 404, 408)"
[ "$(metric dsinfer_time_to_first_token_seconds_count)" = 4 ] && pass || fail "ttft count"
[ "$(metric dsinfer_request_duration_seconds_count)" = 4 ] && pass || fail "e2e count"
[ "$(metric dsinfer_inter_token_latency_seconds_count)" -ge 20 ] && pass || fail "itl count"
[ "$(metric dsinfer_kv_blocks_used)" = 0 ] && pass || fail "kv blocks used after requests"
[ "$(metric dsinfer_generation_tokens_total)" = 31 ] && pass ||
  fail "generation tokens: $(metric dsinfer_generation_tokens_total)"

# Graceful drain: SIGTERM while 6 long streams run. /ready turns 503, a new request gets
# 503, the streams finish whole, and the process exits 0.
for i in 1 2 3 4 5 6; do
  curl -sN "$base/v1/completions" \
    -d '{"model":"tiny","prompt":[1,2,3],"max_tokens":2400,"ignore_eos":true,"stream":true}' \
    > "$server_dir/drain$i.txt" &
done
for _ in $(seq 1 200); do
  started=0
  for i in 1 2 3 4 5 6; do [ -s "$server_dir/drain$i.txt" ] && started=$((started + 1)); done
  [ "$started" -eq 6 ] && break
  sleep 0.01
done
kill -TERM "$server_pid"
sleep 0.1
expect_status "/ready while draining" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready")"
expect_status "new request while draining" 503 "$(curl -s -o /dev/null -w '%{http_code}' \
  "$base/v1/completions" -d '{"model":"tiny","prompt":[1],"max_tokens":1}')"
wait $(jobs -p | grep -v "^$server_pid$") 2>/dev/null
for i in 1 2 3 4 5 6; do
  tail_lines=$(grep '^data: ' "$server_dir/drain$i.txt" | tail -n 2)
  expect_contains "$tail_lines" '"finish_reason":"length"' "drained stream $i finished"
  expect_contains "$tail_lines" 'data: [DONE]' "drained stream $i complete"
done
wait_server_exit

# The access log: JSON lines with ids, routes, statuses, tokens and timings, never the prompt.
log=$(grep '^{' "$server_log")
if grep -q "$secret" "$server_log"; then fail "the prompt text reached the log"; else pass; fi
line=$(printf '%s\n' "$log" | grep '"route":"/v1/chat/completions"' | grep '"status":200' | head -n 1)
[ "$(json_field "$line" 'j["prompt_tokens"] > 0 and j["completion_tokens"] == 12 and "ttft_s" in j and len(j["request_id"]) == 16')" = True ] &&
  pass || fail "access log line: $line"
finish
