# Shared helpers for bench/engine_*.sh (sourced, not run). Loopback only.
# CPU time of a process = utime+stime (the /proc/PID/stat fields 14+15; at exit the same numbers
# come from wait4, which /usr/bin/time reports). Steal is taken from /proc/stat around each phase.
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/llmload-bench.XXXXXX)
PIDS=()
engine_cleanup() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap engine_cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

stat_cpu() { awk '/^cpu /{s=0; for (i=2;i<=NF;i++) s+=$i; print $9, s}' /proc/stat; }
# steal_pct "S0 T0" "S1 T1"
steal_pct() { echo "$1 $2" | awk '{d=$4-$2; printf "%.1f", (d>0 ? 100*($3-$1)/d : 0)}'; }
proc_cpu_s() { awk -v hz="$HZ" '{printf "%.3f", ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proc_hwm_kb() { awk '/^VmHWM/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_mock NAME ARGS...: `llmload mock` as its own process; sets MOCK_PID and MOCK_URL.
start_mock() {
  local name=$1; shift
  "$BUILD/llmload" mock --port 0 "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  for _ in $(seq 100); do grep -q "listening on" "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
  MOCK_URL=$(head -1 "$TMP/$name.out" | awk '{print $NF}')
  [ -n "$MOCK_URL" ] || { echo "mock did not start: $(cat "$TMP/$name.err")" >&2; exit 1; }
}
stop_mock() { kill -INT "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; }

# measure NAME TIMEOUT CMD...: runs CMD (bounded by TIMEOUT seconds) under /usr/bin/time, polls
# the client's VmHWM every 100 ms. Sets M_CPU (s), M_USER, M_SYS, M_HWM_KB (peak RSS), M_WALL,
# M_STEAL (% of all CPU time on the host during the phase), M_RC.
measure() {
  local name=$1 limit=$2; shift 2
  local s0 s1
  s0=$(stat_cpu)
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/$name.time" timeout -s INT "$limit" "$@" \
    > "$TMP/$name.stdout" 2> "$TMP/$name.stderr" &
  local tpid=$! hwm=0 h c
  while kill -0 "$tpid" 2>/dev/null; do
    c=$(pgrep -P "$(pgrep -P "$tpid" | head -1)" 2>/dev/null | head -1)
    if [ -n "$c" ]; then h=$(proc_hwm_kb "$c"); [ "${h:-0}" -gt "$hwm" ] && hwm=$h; fi
    sleep 0.1
  done
  wait "$tpid"; M_RC=$?
  s1=$(stat_cpu)
  read -r M_WALL M_USER M_SYS M_MAXRSS < <(tail -1 "$TMP/$name.time")
  M_CPU=$(echo "$M_USER + $M_SYS" | bc)
  M_HWM_KB=$(( hwm > M_MAXRSS ? hwm : M_MAXRSS ))
  M_STEAL=$(steal_pct "$s0" "$s1")
}

# truth_tokens FILE FROM TO: tokens the mock sent on truth lines FROM..TO-1 (0-based).
truth_tokens() { sed -n "$(( $2 + 1 )),$3p" "$1" | jq -s 'map(.tokens) | add // 0'; }
truth_lines() { sleep 0.4; wc -l < "$1"; }

# prio_wrap: with PRIO set (e.g. "chrt -f 20" or "nice -n -20"; root needed), points BUILD at a
# directory whose llmload and bench/* run under it, so the rest of a busy shared VM does not delay
# the measured processes' wake-ups. PRIO_CMD is the prefix for other commands (wrk).
PRIO_CMD=()
prio_wrap() {
  [ -n "${PRIO:-}" ] || return 0
  $PRIO true 2>/dev/null || { echo "PRIO '$PRIO' does not work here" >&2; exit 1; }
  local real; real=$(cd "$BUILD" && pwd)
  BUILD=$TMP/prio; mkdir -p "$BUILD/bench"
  printf '#!/bin/sh\nexec %s "%s/llmload" "$@"\n' "$PRIO" "$real" > "$BUILD/llmload"
  for b in "$real"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$PRIO" "$b" > "$BUILD/bench/$(basename "$b")"
  done
  chmod +x "$BUILD/llmload" "$BUILD"/bench/*
  read -r -a PRIO_CMD <<< "$PRIO"
}
