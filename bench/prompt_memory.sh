#!/usr/bin/env bash
# Worker memory over a long synthetic run (issue 19): every request gets its own prompt,
# generated on the worker as it is sent, so memory must stay flat however many requests the run
# makes. One `llmload run --threads 1` (coordinator and worker in one process) of REQUESTS
# synthetic requests against one `llmload mock` (its own process, loopback); the client's RSS
# (VmRSS of /proc/PID/status) is sampled every second and printed at the start (first sample
# after load began), the middle and the end of the run, with its peak (VmHWM), the requests per
# second and the host's steal. With --truth (TRUTH=1) the mock's log also shows every body was
# distinct (distinct body_hash values / requests).
#
#   bench/prompt_memory.sh [BUILD_DIR]
# Environment: REQUESTS (1000000), CONNS (64), WORDS (200), TRUTH (0).
set -uo pipefail
BUILD=${1:-build}
REQUESTS=${REQUESTS:-1000000}; CONNS=${CONNS:-64}; WORDS=${WORDS:-200}; TRUTH=${TRUTH:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"

MOCK_ARGS=(--threads 1 --ttft 0s --itl 0s)
[ "$TRUTH" = 1 ] && MOCK_ARGS+=(--truth "$TMP/truth.jsonl")
start_mock mock "${MOCK_ARGS[@]}"
cat > "$TMP/s.yaml" <<YAML
name: prompt-memory
target: {url: $MOCK_URL, api: openai-chat, model: mock}
load: {concurrency: $CONNS, requests: $REQUESTS}
prompts: {source: synthetic, input_tokens: {dist: uniform, min: $((WORDS / 2)), max: $((WORDS * 3 / 2))}, unique_prefix: true}
output: {max_tokens: 1}
YAML
s0=$(stat_cpu)
"$BUILD/llmload" run "$TMP/s.yaml" --threads 1 --out "$TMP/out" --no-report > "$TMP/run.out" 2>&1 &
RUN_PID=$!
PIDS+=("$RUN_PID")
t0=$(date +%s.%N)
: > "$TMP/rss"
while kill -0 "$RUN_PID" 2>/dev/null; do
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$RUN_PID/status" 2>/dev/null)
  [ -n "$rss" ] && echo "$(date +%s.%N) $rss $(proc_hwm_kb "$RUN_PID")" >> "$TMP/rss"
  sleep 1
done
wait "$RUN_PID"; rc=$?
t1=$(date +%s.%N)
s1=$(stat_cpu)
stop_mock
[ "$rc" = 0 ] || { echo "run failed ($rc):"; tail -20 "$TMP/run.out"; exit 1; }
n=$(wc -l < "$TMP/rss")
# The first sample is taken before load starts (pre-flight); "start" is the second one.
pick() { sed -n "$1p" "$TMP/rss" | awk '{print $2}'; }
start=$(pick 2); middle=$(pick $(( (n + 1) / 2 ))); end=$(pick "$n")
hwm=$(tail -1 "$TMP/rss" | awk '{print $3}')
wall=$(echo "$t1 - $t0" | bc)
echo "# $REQUESTS synthetic requests (~$WORDS words, unique_prefix), concurrency $CONNS, client --threads 1, mock --threads 1"
echo "rss_kb start $start middle $middle end $end (samples $n, 1 s apart); peak $hwm kB"
printf "wall %.1f s, %.0f requests/s, steal %s %%\n" "$wall" "$(echo "$REQUESTS / $wall" | bc -l)" "$(steal_pct "$s0" "$s1")"
if [ "$TRUTH" = 1 ]; then
  sleep 0.5
  echo "truth: $(grep -c '"api":"openai-chat"' "$TMP/truth.jsonl") requests, $(grep -o '"body_hash":"[0-9a-f]*"' "$TMP/truth.jsonl" | sort -u | wc -l) distinct bodies"
fi
