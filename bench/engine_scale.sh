#!/usr/bin/env bash
# Concurrency and memory (issue 6 "Speed and memory"): `llmload run --concurrency N` for N in
# 1000 and 10000 (env LEVELS) against `llmload mock --threads 2` as its own process, plain HTTP.
# Streams are long (TTFT 50ms + TOKENS x ITL, default 6 s) so that all N are in flight together;
# each connection runs ROUNDS streams. Reports errors by kind, the most streams the mock held at
# once, the client's peak RSS (VmHWM) at each level, and the memory per stream as the slope of
# peak RSS between the first and the last level: (RSS_last - RSS_first) / (N_last - N_first),
# i.e. (RSS10k - RSS1k) / 9,000 by default (issue 14: target <= 8 KiB). A slope needs no guess of
# the process's fixed base (code, libraries, buffers sized per loop).
#
#   bench/engine_scale.sh [BUILD_DIR]
# Environment: LEVELS ("1000 10000"), THREADS (client loops, 2), ITL (200ms), TOKENS (30), ROUNDS (2).
set -uo pipefail
BUILD=${1:-build-bench}
LEVELS=${LEVELS:-"1000 10000"}; THREADS=${THREADS:-2}; ITL=${ITL:-200ms}; TOKENS=${TOKENS:-30}; ROUNDS=${ROUNDS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
HWM=()
echo "# fd limit $(ulimit -n) (hard $(ulimit -Hn)); mock --threads 2 --ttft 50ms --itl $ITL --tokens $TOKENS; client --threads $THREADS"
for N in $LEVELS; do
  start_mock "mock$N" --threads 2 --ttft 50ms --itl "$ITL" --tokens "$TOKENS"
  cat > "$TMP/s$N.yaml" <<YAML
name: engine-scale
target: {url: $MOCK_URL, api: openai-chat, model: mock, stream_options: {include_usage: false}, timeouts: {connect: 30s}}
load: {concurrency: $N, requests: $((N * ROUNDS))}
prompts: {source: inline, items: [{text: hello, max_tokens: $TOKENS}]}
YAML
  measure "run$N" 60 "$BUILD/llmload" run "$TMP/s$N.yaml" --threads "$THREADS" --concurrency "$N" \
    --requests $((N * ROUNDS)) --no-report --out "$TMP/out$N"
  stop_mock
  S="$TMP/out$N/summary.json"
  HWM_MIB=$(echo "scale=1; $M_HWM_KB / 1024" | bc)
  HWM+=("$N $M_HWM_KB")
  echo "N=$N: rc=$M_RC wall=${M_WALL}s client cpu=${M_CPU}s steal=${M_STEAL}% peak RSS ${HWM_MIB} MiB"
  echo "  totals: $(jq -c '{requests: .totals.requests, ok: .totals.ok, failed: .totals.failed, output_tokens: .totals.output_tokens}' "$S" 2>/dev/null)"
  echo "  errors by kind: $(jq -c '.errors // {} | map_values(.count)' "$S" 2>/dev/null)"
  echo "  client health: $(jq -c '.run.client' "$S" 2>/dev/null)  run status: $(jq -r '.run.status' "$S" 2>/dev/null)"
  echo "  mock: $(tail -1 "$TMP/mock$N.err")"
  [ "$M_RC" = 0 ] || tail -3 "$TMP/run$N.stderr" | sed 's/^/  stderr: /'
done
read -r N0 K0 <<< "${HWM[0]}"
read -r N1 K1 <<< "${HWM[-1]}"
if [ "$N1" -gt "$N0" ]; then
  echo "memory per stream = (peak RSS at $N1 - at $N0) / $((N1 - N0)) = ($K1 - $K0) KiB / $((N1 - N0)) = $(echo "scale=2; ($K1 - $K0) / ($N1 - $N0)" | bc) KiB (target <= 8 KiB)"
fi
