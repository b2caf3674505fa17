#!/bin/sh
# Debian packages the default-model pipeline needs (run as root, or with sudo). Idempotent.
# libopenblas0-pthread matters: Debian's python3-torch links libblas.so.3, and with only
# netlib's reference BLAS one training step is ~15x slower (see README.md).
set -eu
pkgs="python3-torch python3-numpy python3-regex libopenblas0-pthread"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
# The pipeline runs Debian's own interpreter (a pyenv python3 on PATH has no torch).
/usr/bin/python3 -c 'import torch, numpy, regex; print("torch", torch.__version__, "numpy", numpy.__version__)'
