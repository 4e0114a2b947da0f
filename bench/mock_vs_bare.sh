#!/usr/bin/env bash
# The mock's CPU per streamed token against bench/tools/bare_writer (issue 4 "Speed"), both
# driven by the same wrk load (bench/wrk/stream_chat.lua: POST /v1/chat/completions, streamed,
# max_tokens = TOKENS) from a separate process, one after the other in one run.
# Server CPU = utime+stime from /proc/PID/stat across the wrk
# phase; tokens = completed streams x TOKENS (streams cut at the end of the phase are cut alike).
# ROUNDS alternate mock and bare_writer so drift in the machine's load hits both alike.
# The mock's emission lateness at 2,000 streams is measured by engine_timing.sh MODE=ramp (it
# prints the mock's own lateness line): wrk's closed loop keeps every stream on one phase, so
# all 2,000 sends fall due in the same instant each ITL, a burst by construction.
#
#   bench/mock_vs_bare.sh [BUILD_DIR]
# Environment: CONNS (500), DUR (15), TTFT_MS (10), ITL_MS (10), TOKENS (50), ROUNDS (2),
#   PRIO (e.g. "chrt -f 20": run both servers and wrk under it; see engine_lib.sh).
set -uo pipefail
BUILD=${1:-build-bench}
CONNS=${CONNS:-500}; DUR=${DUR:-15}; TTFT_MS=${TTFT_MS:-10}; ITL_MS=${ITL_MS:-10}; TOKENS=${TOKENS:-50}; ROUNDS=${ROUNDS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
export MAX_TOKENS=$TOKENS

# server_phase NAME: wrk against $SRV_URL while sampling $SRV_PID; prints "streams tokens cpu_s us/token steal%".
server_phase() {
  local name=$1 c0 c1 s0 s1
  c0=$(proc_cpu_s "$SRV_PID"); s0=$(stat_cpu)
  "${PRIO_CMD[@]}" wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 30s -s "$HERE/wrk/stream_chat.lua" "$SRV_URL" > "$TMP/$name.wrk" 2>&1
  c1=$(proc_cpu_s "$SRV_PID"); s1=$(stat_cpu)
  local reqs non2xx
  reqs=$(awk '/requests in/{print $1}' "$TMP/$name.wrk")
  non2xx=$(awk '/Non-2xx/{print $NF}' "$TMP/$name.wrk")
  local tok=$((reqs * TOKENS)) cpu
  cpu=$(echo "$c1 - $c0" | bc)
  printf "%-12s %8s %9s %8s %10s %7s %s\n" "$name" "$reqs" "$tok" "$cpu" "$(echo "scale=3; 1000000 * $cpu / $tok" | bc)" "$(steal_pct "$s0" "$s1")" "non2xx=${non2xx:-0}"
}
prio_wrap
echo "# wrk -t1 -c$CONNS -d${DUR}s, ttft ${TTFT_MS}ms itl ${ITL_MS}ms $TOKENS tokens${PRIO:+; all under $PRIO}"
printf "%-12s %8s %9s %8s %10s %7s %s\n" server streams tokens cpu_s us/token steal% note
for round in $(seq "$ROUNDS"); do
  start_mock mock$round --threads 1 --ttft "${TTFT_MS}ms" --itl "${ITL_MS}ms" --tokens "$TOKENS"
  SRV_PID=$MOCK_PID SRV_URL=$MOCK_URL
  M=$(server_phase mock); echo "$M"
  stop_mock; echo "  mock: $(tail -1 "$TMP/mock$round.err")"

  "$BUILD/bench/bare_writer" --port 0 --ttft-us $((TTFT_MS * 1000)) --itl-us $((ITL_MS * 1000)) --tokens "$TOKENS" > "$TMP/bare.out" 2>&1 &
  SRV_PID=$!; PIDS+=("$SRV_PID")
  for _ in $(seq 50); do grep -q listening "$TMP/bare.out" && break; sleep 0.1; done
  SRV_URL=$(head -1 "$TMP/bare.out" | awk '{print $NF}')
  B=$(server_phase bare_writer); echo "$B"
  kill -INT "$SRV_PID"; wait "$SRV_PID" 2>/dev/null
  echo "round $round ratio mock/bare_writer: $(echo "scale=2; $(echo "$M" | awk '{print $5}') / $(echo "$B" | awk '{print $5}')" | bc)  (target <= 1.3)"
done
