#!/usr/bin/env bash
# `make serve`: starts `dsinfer serve` on the default model at http://127.0.0.1:${PORT:-8080}.
#
# The default model is models/default.gguf: a 10 M-parameter DeepSeek-V3-shaped model (MLA,
# sigmoid-routed experts) that the project trained itself on public-domain English
# (tools/default-model, models/README.md), with its own 4k-token vocabulary and DeepSeek-V3's
# chat template. It is committed, so nothing is downloaded or trained here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec build/src/app/dsinfer serve -m models/default.gguf --served-model-name dsinfer-default \
  --host 127.0.0.1 --port "${PORT:-8080}" "$@"
