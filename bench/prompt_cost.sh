#!/usr/bin/env bash
# The client CPU a per-request prompt costs (issue 19): the same run two ways, alternated ROUNDS
# times so drift hits both alike, against one `llmload mock` (its own process, loopback):
#   fixed      one inline prompt of WORDS words, its request prebuilt once and resent as is
#   synthetic  a synthetic prompt of WORDS words generated per request (worker/body_template.h)
# Client CPU = user + sys of the `llmload run --threads 1` process (engine_lib.sh measure), per
# request. Prints each run, then the median µs/request of each way and the difference, with the
# host's steal.
#
#   bench/prompt_cost.sh [BUILD_DIR]
# Environment: REQUESTS (50000), CONNS (32), WORDS (1000), TOKENS (16), ROUNDS (3).
set -uo pipefail
BUILD=${1:-build}
REQUESTS=${REQUESTS:-50000}; CONNS=${CONNS:-32}; WORDS=${WORDS:-1000}; TOKENS=${TOKENS:-16}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"

start_mock mock --threads 1 --ttft 0s --itl 0s
TEXT=$(python3 -c "print(' '.join(['word'] * $WORDS))")
cat > "$TMP/fixed.yaml" <<YAML
name: prompt-cost-fixed
target: {url: $MOCK_URL, api: openai-chat, model: mock}
load: {concurrency: $CONNS, requests: $REQUESTS}
prompts: {source: inline, items: ["$TEXT"]}
output: {max_tokens: $TOKENS}
YAML
cat > "$TMP/synthetic.yaml" <<YAML
name: prompt-cost-synthetic
target: {url: $MOCK_URL, api: openai-chat, model: mock}
load: {concurrency: $CONNS, requests: $REQUESTS}
prompts: {source: synthetic, input_tokens: $WORDS}
output: {max_tokens: $TOKENS}
YAML
echo "# $REQUESTS requests x $WORDS-word prompts x $TOKENS tokens, concurrency $CONNS, client and mock --threads 1"
printf "%-10s %5s %8s %11s %7s\n" way round cpu_s us/request steal%
declare -A RESULTS
for r in $(seq "$ROUNDS"); do
  for way in fixed synthetic; do
    measure "$way-$r" 600 "$BUILD/llmload" run "$TMP/$way.yaml" --threads 1 --no-report \
      --out "$TMP/out-$way-$r"
    [ "$M_RC" = 0 ] || { echo "$way run failed: $(tail -5 "$TMP/$way-$r.stderr")"; exit 1; }
    us=$(echo "$M_CPU * 1000000 / $REQUESTS" | bc -l)
    printf "%-10s %5s %8.2f %11.1f %7s\n" "$way" "$r" "$M_CPU" "$us" "$M_STEAL"
    RESULTS[$way]+="$us "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(echo "${RESULTS[fixed]}" | median); s=$(echo "${RESULTS[synthetic]}" | median)
printf "median us/request: fixed %.1f, synthetic %.1f, difference %.1f (%.1f %%)\n" "$f" "$s" \
  "$(echo "$s - $f" | bc -l)" "$(echo "100 * ($s - $f) / $f" | bc -l)"
