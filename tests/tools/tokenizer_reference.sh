#!/usr/bin/env bash
# Prepares the tokenizer cross-check (tests/unit/tokenizer_reference_test.cpp) in DIR (a
# scratch directory in the build tree, never the repository): installs the npm reference
# tokenizers once (pinned versions), then runs tests/tools/tokenizer_reference.cjs to convert
# their vocabularies and write the corpus and reference ids. Both steps are cached in DIR; a
# lock makes tests started in parallel wait for one preparation. Needs node and npm (Debian's
# nodejs and npm; scripts/setup.sh installs them with the test packages) and the npm registry
# the first time: without them it fails with a message saying what is missing.
# Usage: tokenizer_reference.sh DIR [COUNT]
set -euo pipefail
dir=$1
count=${2:-10000}
here=$(cd "$(dirname "$0")" && pwd)
packages=(@huggingface/tokenizers@0.2.0 js-tiktoken@1.0.21 llama3-tokenizer-js@1.2.0)
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "tokenizer_reference: $tool is not installed (apt-get install nodejs npm)" >&2; exit 2; }
done
if [ "$(cat "$dir/npm/.installed" 2>/dev/null)" != "${packages[*]}" ]; then
  mkdir -p "$dir/npm"
  [ -f "$dir/npm/package.json" ] || echo '{"private": true}' >"$dir/npm/package.json"
  if ! (cd "$dir/npm" && timeout 600 npm install --no-audit --no-fund --no-save --silent "${packages[@]}"); then
    echo "tokenizer_reference: npm install ${packages[*]} failed (is the npm registry reachable?)" >&2
    exit 3
  fi
  echo "${packages[*]}" >"$dir/npm/.installed"
fi
stamp="$(sha256sum "$here/tokenizer_reference.cjs" | cut -c1-16) $count ${packages[*]}"
if [ "$(cat "$dir/out/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$dir/out"
  rm -rf "$dir/out.tmp"
  node "$here/tokenizer_reference.cjs" "$dir/npm" "$dir/out.tmp" "$count" >&2
  mv "$dir/out.tmp" "$dir/out"
  echo "$stamp" >"$dir/out/.stamp"
fi
cd "$dir/out" && pwd
