#!/usr/bin/env bash
# CPU per streamed token of `llmload mock` against bench/tools/bare_writer (same bytes, same
# schedule), both driven by the same wrk load from a separate process; then the mock's emission
# lateness at 2,000 streams and its hold at 10,000. CPU time from /proc/PID/stat (utime+stime),
# steal from /proc/stat beside each figure.
#
#   bench/mock_speed.sh [BUILD_DIR]      (a Release build with LLMLOAD_BENCH=ON)
# Environment: CONNS (500), DUR (15 s), TTFT_MS (10), ITL_MS (20), TOKENS (50).
set -euo pipefail
BUILD=${1:-build-mock-rel}
CONNS=${CONNS:-500}
DUR=${DUR:-15}
TTFT_MS=${TTFT_MS:-10}
ITL_MS=${ITL_MS:-20}
TOKENS=${TOKENS:-50}
HERE=$(cd "$(dirname "$0")" && pwd)
LUA=$HERE/tools/mock_chat.lua
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" || true
HZ=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
total_ticks() { awk '/^cpu /{s=0; for (i=2;i<=NF;i++) s+=$i; print s}' /proc/stat; }

# start NAME CMD...: runs CMD, waits for its "listening on URL" line; sets PID and URL.
start() {
  local name=$1; shift
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 100); do grep -q "listening on" "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(head -1 "$TMP/$name.out" | awk '{print $NF}')
  [ -n "$URL" ] || { echo "$name did not start"; cat "$TMP/$name.err"; exit 1; }
}

# drive NAME CONNS DUR: wrk against $URL; prints "requests cpu_s steal_pct".
drive() {
  local name=$1 conns=$2 dur=$3
  local c0 s0 t0 c1 s1 t1
  c0=$(cpu_ticks "$PID"); s0=$(steal_ticks); t0=$(total_ticks)
  wrk -t1 -c"$conns" -d"${dur}s" --timeout 30s -s "$LUA" "$URL" > "$TMP/$name.wrk" 2>&1 || true
  c1=$(cpu_ticks "$PID"); s1=$(steal_ticks); t1=$(total_ticks)
  local reqs
  reqs=$(awk '/requests in/{print $1}' "$TMP/$name.wrk")
  echo "$reqs $(echo "scale=3; ($c1 - $c0) / $HZ" | bc) $(echo "scale=2; 100 * ($s1 - $s0) / ($t1 - $t0)" | bc)"
}

echo "# load: wrk -t1 -c$CONNS -d${DUR}s, streamed chat, ttft ${TTFT_MS}ms, itl ${ITL_MS}ms, $TOKENS tokens"
start mock "$BUILD/llmload" mock --port 0 --ttft "${TTFT_MS}ms" --itl "${ITL_MS}ms" --tokens "$TOKENS"
read -r m_reqs m_cpu m_steal < <(drive mock "$CONNS" "$DUR")
kill "$PID"; wait "$PID" 2>/dev/null || true
m_stats=$(tail -1 "$TMP/mock.err")

start bare "$BUILD/bench/bare_writer" --port 0 --ttft-us $((TTFT_MS * 1000)) --itl-us $((ITL_MS * 1000)) --tokens "$TOKENS"
read -r b_reqs b_cpu b_steal < <(drive bare "$CONNS" "$DUR")
kill "$PID"; wait "$PID" 2>/dev/null || true

m_tok=$((m_reqs * TOKENS)); b_tok=$((b_reqs * TOKENS))
m_us=$(echo "scale=3; 1000000 * $m_cpu / $m_tok" | bc)
b_us=$(echo "scale=3; 1000000 * $b_cpu / $b_tok" | bc)
echo "mock:        $m_reqs streams, $m_tok tokens, cpu ${m_cpu}s, ${m_us} us/token (steal ${m_steal}%)"
echo "bare_writer: $b_reqs streams, $b_tok tokens, cpu ${b_cpu}s, ${b_us} us/token (steal ${b_steal}%)"
echo "ratio mock/bare: $(echo "scale=3; $m_us / $b_us" | bc)  (target <= 1.3)"
echo "mock stats: $m_stats"

echo "# lateness at 2000 streams: ttft 10ms, itl 50ms, 40 tokens"
start mock2k "$BUILD/llmload" mock --port 0 --ttft 10ms --itl 50ms --tokens 40
read -r r c s < <(drive mock2k 2000 "$DUR")
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "2000 streams: $r streams done, mock cpu ${c}s (steal ${s}%)"
echo "mock stats: $(tail -1 "$TMP/mock2k.err")"

echo "# hold 10000 streams: ttft 10ms, itl 500ms, 20 tokens"
start mock10k "$BUILD/llmload" mock --port 0 --ttft 10ms --itl 500ms --tokens 20
read -r r c s < <(drive mock10k 10000 "$DUR")
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "10000 streams: $r streams done, mock cpu ${c}s (steal ${s}%)"
echo "mock stats: $(tail -1 "$TMP/mock10k.err")"
grep -E "Socket errors|Non-2xx" "$TMP/mock10k.wrk" || echo "wrk: no socket errors"
