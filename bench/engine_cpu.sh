#!/usr/bin/env bash
# Client CPU per streamed token (issue 6 "Speed"): `llmload run --threads 1`, `wrk -t1` (Lua:
# bench/wrk/stream_chat.lua) and bench/tools/bare_reader, one after the other, each at CONNS
# connections against ONE `llmload mock` process, same request bytes, same schedule. Tokens per
# client are counted from the mock's truth log (tokens it sent while that client ran, streams cut
# at the client's end included), so every client is divided by the same kind of count.
# When llmload has `--timestamps kernel|clock` (issue 14), it runs once with each, and each is
# divided by wrk's and bare_reader's figure from the same script run (target: llmload/wrk <= 1.2).
#
#   bench/engine_cpu.sh [BUILD_DIR]     (Release, LLMLOAD_BENCH=ON)
# Environment: CONNS (500), ROUNDS (4 streams per connection), TTFT (50ms), ITL (10ms),
# TOKENS (200), WRK_S (seconds of wrk; default: the time llmload took).
set -uo pipefail
BUILD=${1:-build-bench}
CONNS=${CONNS:-500}; ROUNDS=${ROUNDS:-4}; TTFT=${TTFT:-50ms}; ITL=${ITL:-10ms}; TOKENS=${TOKENS:-200}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"

start_mock mock --threads 1 --ttft "$TTFT" --itl "$ITL" --tokens "$TOKENS" --truth "$TMP/truth.jsonl"
HOSTPORT=${MOCK_URL#http://}
cat > "$TMP/scenario.yaml" <<YAML
name: engine-cpu
target: {url: $MOCK_URL, api: openai-chat, model: mock, stream_options: {include_usage: false}}
load: {concurrency: $CONNS, requests: $((CONNS * ROUNDS))}
prompts: {source: inline, items: [{text: hello, max_tokens: $TOKENS}]}
YAML
echo "# load: $CONNS connections, mock --threads 1 --ttft $TTFT --itl $ITL, $TOKENS tokens/stream"
printf "%-15s %8s %9s %8s %8s %8s %10s %7s %s\n" client streams tokens cpu_s user_s sys_s us/token steal% note

# llmload: CPU of the whole process (coordinator, worker loop, results writing included).
if "$BUILD/llmload" run --help 2>&1 | grep -q -- '--timestamps'; then
  STAMPS=(kernel clock)
else
  STAMPS=(default)
  echo "# this llmload has no --timestamps flag: one llmload run, with its own stamps"
fi
L_US=(); LWALL=0
for S in "${STAMPS[@]}"; do
  flag=(); [ "$S" = default ] || flag=(--timestamps "$S")
  L0=$(truth_lines "$TMP/truth.jsonl")
  measure "llmload-$S" 60 "$BUILD/llmload" run "$TMP/scenario.yaml" --threads 1 --concurrency "$CONNS" \
    --requests $((CONNS * ROUNDS)) "${flag[@]}" --no-report --out "$TMP/out-llmload-$S"
  L1=$(truth_lines "$TMP/truth.jsonl")
  TOK=$(truth_tokens "$TMP/truth.jsonl" "$L0" "$L1")
  L_US+=("$(echo "scale=3; 1000000 * $M_CPU / $TOK" | bc)")
  printf "%-15s %8s %9s %8s %8s %8s %10s %7s %s\n" "llmload $S" $((L1 - L0)) "$TOK" "$M_CPU" "$M_USER" "$M_SYS" "${L_US[-1]}" "$M_STEAL" "rc=$M_RC wall=${M_WALL}s"
  [ "$LWALL" -gt 0 ] || LWALL=${M_WALL%.*}
done
WRK_S=${WRK_S:-$((LWALL > 5 ? LWALL : 5))}

L0=$(truth_lines "$TMP/truth.jsonl")
MAX_TOKENS=$TOKENS measure wrk 60 wrk -t1 -c"$CONNS" -d"${WRK_S}s" --timeout 30s -s "$HERE/wrk/stream_chat.lua" "$MOCK_URL"
L1=$(truth_lines "$TMP/truth.jsonl")
TOK=$(truth_tokens "$TMP/truth.jsonl" "$L0" "$L1")
W_US=$(echo "scale=3; 1000000 * $M_CPU / $TOK" | bc)
printf "%-15s %8s %9s %8s %8s %8s %10s %7s %s\n" wrk $((L1 - L0)) "$TOK" "$M_CPU" "$M_USER" "$M_SYS" "$W_US" "$M_STEAL" "$(grep -Eo '[0-9]+ requests in' "$TMP/wrk.stdout") -d${WRK_S}s"

L0=$(truth_lines "$TMP/truth.jsonl")
measure bare 60 "$BUILD/bench/bare_reader" 127.0.0.1 "${HOSTPORT#*:}" "$CONNS" "$ROUNDS" "$TOKENS"
L1=$(truth_lines "$TMP/truth.jsonl")
TOK=$(truth_tokens "$TMP/truth.jsonl" "$L0" "$L1")
B_US=$(echo "scale=3; 1000000 * $M_CPU / $TOK" | bc)
printf "%-15s %8s %9s %8s %8s %8s %10s %7s %s\n" bare_reader $((L1 - L0)) "$TOK" "$M_CPU" "$M_USER" "$M_SYS" "$B_US" "$M_STEAL" "$(cat "$TMP/bare.stdout")"

for i in "${!STAMPS[@]}"; do
  echo "llmload (${STAMPS[i]} stamps): /bare_reader $(echo "scale=2; ${L_US[i]} / $B_US" | bc) (target <= 1.5)  /wrk $(echo "scale=2; ${L_US[i]} / $W_US" | bc) (target <= 1.2)"
  echo "  $(jq -c '{requests: .totals.requests, ok: .totals.ok, failed: .totals.failed, output_tokens: .totals.output_tokens, errors: (.errors // {} | map_values(.count)), client: .run.client}' "$TMP/out-llmload-${STAMPS[i]}/summary.json" 2>/dev/null)"
done
stop_mock
echo "mock: $(tail -1 "$TMP/mock.err")"
