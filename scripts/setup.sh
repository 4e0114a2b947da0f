#!/usr/bin/env bash
# Sets llmload up on Debian 12: installs the Debian packages it needs (when any is missing),
# then configures and builds a Release llmload into build/.
#
#   scripts/setup.sh                 build deps + build/llmload
#   scripts/setup.sh --deps-only     only the packages
#   LLMLOAD_TEST_DEPS=1 scripts/setup.sh --deps-only   also what the tests use
#
# As root it installs with apt-get; as another user it prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake ninja-build pkg-config libuv1-dev node-llhttp libssl-dev
  libzmq3-dev cppzmq-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev libpcre2-dev)
# Used by the tests only: the fuzz build (clang + libFuzzer runtime), the reference
# HdrHistogram (Java), openssl for test certificates, iproute2 for network namespaces,
# prometheus (server + promtool) for the exposition tests; simdjson for bench/json_simdjson_bench
# (the JSON comparison of docs/benchmarks.md; llmload itself does not use it); nodejs and npm
# for the tokenizer cross-check (npm reference tokenizers, installed into the build tree).
test_pkgs=(clang libclang-rt-14-dev default-jdk-headless libhdrhistogram-java openssl iproute2 procps
  prometheus wrk chromium libsimdjson-dev)

pkgs=("${build_pkgs[@]}")
if [ "${LLMLOAD_TEST_DEPS:-0}" = 1 ]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node and npm (tests): any install will do (a machine may carry another distribution's
# nodejs, which Debian's npm cannot sit beside), so they are looked for as commands.
if [ "${LLMLOAD_TEST_DEPS:-0}" = 1 ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages; run as root:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi

if [ "${1:-}" = "--deps-only" ]; then exit 0; fi

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build --target llmload
