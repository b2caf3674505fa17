#!/usr/bin/env bash
# The chat path end to end on the committed default model (models/default.gguf): `dsinfer
# serve` renders DeepSeek-V3's chat template and the model, trained on 32,000 such exchanges,
# answers "What is X?" questions in a dictionary's form and stops by itself at the
# end-of-sentence token. Greedy, so the answers are fixed for the model file. Every answer must
# stop (finish_reason "stop" before max_tokens) and have a definition's shape ("A/An W is ...",
# "To W means to ...", "W means ..."); at least 6 of the 8 must define the word asked (a 10 M
# model sometimes defines another: "What is a river?" -> "A north is a region of ...").
source "$(dirname "$0")/lib.sh"
dsinfer=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
server_model="$root/models/default.gguf"
server_model_name=dsinfer-default
start_server "$dsinfer"

right=0
ask() {  # question, the start an answer about the asked word has
  local question=$1 start=$2 problems
  curl -s --max-time 20 "$base/v1/chat/completions" -H 'Content-Type: application/json' \
    -d "{\"model\":\"dsinfer-default\",\"messages\":[{\"role\":\"user\",\"content\":\"$question\"}],\"max_tokens\":96,\"temperature\":0}" \
    >"$server_dir/answer.json"
  problems=$(/usr/bin/python3 - "$start" "$server_dir/answer.json" <<'EOF'
import json, re, sys
start, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
c = r["choices"][0]
content = c["message"].get("content") or ""
bad = []
if c["finish_reason"] != "stop": bad.append(f"finish_reason {c['finish_reason']}")
if r["usage"]["completion_tokens"] >= 96: bad.append("ran to max_tokens")
if not re.match(r"(An? [\w-]+ is |To [\w-]+ means to |[A-Z][\w-]* means )", content):
    bad.append(f"answer {content!r} is not shaped as a definition")
print("; ".join(bad) if bad else ("right" if content.startswith(start + " ") else "other"))
EOF
  ) || problems="the checker failed (its error is above)"
  case "$problems" in
    right) pass; right=$((right + 1)) ;;
    other) pass ;;
    *) fail "$question: $problems" ;;
  esac
}
ask "What is a lighthouse?" "A lighthouse is"
ask "What is a river?" "A river is"
ask "What is a house?" "A house is"
ask "What is a ship?" "A ship is"
ask "What is a book?" "A book is"
ask "What is an ocean?" "An ocean is"
ask "What does it mean to swim?" "To swim means to"
ask "What does it mean to run?" "To run means to"
[ "$right" -ge 6 ] && pass || fail "only $right of 8 answers define the word asked"
stop_server
finish
