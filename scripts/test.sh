#!/usr/bin/env bash
# The test command: sets up (scripts/setup.sh), builds the tests, runs them with ctest and prints
# every failure in full. Exits non-zero on any failure.
#
#   scripts/test.sh              Release build in build/: unit + integration suites
#   SANITIZE=1 scripts/test.sh   clang ASan+UBSan build in build-asan/: unit suite + integration smoke subset
#   FUZZ=1 scripts/test.sh       the fuzz targets of that same build-asan/ tree: each for FUZZ_SECONDS (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

LLMLOAD_TEST_DEPS=1 scripts/setup.sh --deps-only

# The sanitizer tree: clang, ASan+UBSan, Debug, with the fuzz targets beside the tests (common/
# and worker/ carry libFuzzer's coverage instrumentation there), so CI compiles the project once
# for the sanitizer tests and the fuzzing both.
sanitizer_tree() {
  if [ ! -f build-asan/build.ninja ]; then
    CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DLLMLOAD_SANITIZE=ON -DLLMLOAD_FUZZ=ON -DLLMLOAD_BENCH=OFF -DLLMLOAD_SMOKE_ONLY=ON >/dev/null
  fi
}

if [ "${FUZZ:-0}" = 1 ]; then
  secs=${FUZZ_SECONDS:-15}
  sanitizer_tree
  cmake --build build-asan -j "$jobs" --target fuzz_targets
  status=0
  for f in tests/fuzz/*_fuzz.cpp; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .cpp)
    corpus=tests/fuzz/corpus/${name%_fuzz}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    echo "fuzz: $name for ${secs}s"
    if ! build-asan/tests/fuzz/"$name" -max_total_time="$secs" -max_len=65536 -print_final_stats=0 \
        -artifact_prefix="build-asan/$name-" "$work" > "build-asan/$name.log" 2>&1; then
      echo "fuzz: $name FAILED"; tail -50 "build-asan/$name.log"; status=1
    fi
    rm -rf "$work"
  done
  [ $status = 0 ] && echo "fuzz: all targets ran clean"
  exit $status
fi

if [ "${SANITIZE:-0}" = 1 ]; then
  sanitizer_tree
  cmake --build build-asan -j "$jobs"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Unit tests in full; of the integration suites, the tests named *Smoke*.
  ctest --test-dir build-asan -j "$jobs" --output-on-failure --no-tests=error \
    -L unit
  ctest --test-dir build-asan -j "$jobs" --output-on-failure --no-tests=ignore \
    -L integration -R Smoke
  exit 0
fi

scripts/check-layering.sh
scripts/setup.sh
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure --no-tests=error
