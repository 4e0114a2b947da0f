#!/usr/bin/env bash
# Issue 7 "Speed": a run with 50 workers (separate `llmload worker` processes, one event loop
# each) on loopback keeps the coordinator's live view on time. The coordinator prints one JSON
# object per interval (--json); each line is stamped (CLOCK_REALTIME) when it reaches this script.
# Interval k is intended to end at the run's start instant + k x interval: the start is the
# coordinator's own, summary.json's run.started_at (its wall clock, ms resolution; the scenario has
# no warmup, so the measured window starts there) and k is the line's elapsed_s rounded (the live
# view's interval is 1 s; the workers' interval ends fall a few ms after the start's multiples).
# For each whole-interval line, lateness = arrival - (started_at + k x 1 s): how late the merged
# view came out after its intended end (the pipe to this script and `date` add ~1-2 ms).
# Also: the coordinator's CPU time, the workers alive in every line, the run's status.
#
#   bench/coordinator_fanin.sh [BUILD_DIR]
# Environment: WORKERS (50), CONC (2 per worker), DUR (10 s), PRIO (see engine_lib.sh).
set -uo pipefail
BUILD=${1:-build-bench}
WORKERS=${WORKERS:-50}; CONC=${CONC:-$((WORKERS * 2))}; DUR=${DUR:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
prio_wrap
start_mock mock --threads 1 --ttft 50ms --itl 20ms --tokens 20
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$TMP/s.yaml" <<YAML
name: fanin
target: {url: $MOCK_URL, api: openai-chat, model: mock}
load: {concurrency: $CONC, duration: ${DUR}s, grace: 5s}
prompts: {source: inline, items: [{text: hello, max_tokens: 20}]}
YAML
s0=$(stat_cpu)
/usr/bin/time -f "%e %U %S %M" -o "$TMP/coord.time" "$BUILD/llmload" coordinator "$TMP/s.yaml" \
  --workers "$WORKERS" --bind "tcp://127.0.0.1:$PORT" --json --no-report --out "$TMP/out" \
  2> "$TMP/coord.err" | while IFS= read -r line; do echo "$(date +%s.%N) $line"; done > "$TMP/lines" &
CPID=$!
for i in $(seq "$WORKERS"); do
  "$BUILD/llmload" worker --connect "tcp://127.0.0.1:$PORT" --threads 1 --id "w$i" \
    > /dev/null 2> "$TMP/w$i.err" &
  PIDS+=("$!")
done
for _ in $(seq $(( (DUR + 60) * 10 ))); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
s1=$(stat_cpu)
for p in "${PIDS[@]}"; do [ "$p" = "$MOCK_PID" ] || kill -INT "$p" 2>/dev/null; done
stop_mock
read -r WALL USR SYS RSS < <(tail -1 "$TMP/coord.time")
echo "# $WORKERS workers x 1 loop, concurrency $CONC, ${DUR}s${PRIO:+, under $PRIO}; steal $(steal_pct "$s0" "$s1")%"
echo "coordinator: cpu $(echo "$USR + $SYS" | bc) s over ${WALL} s wall, peak RSS $((RSS / 1024)) MiB; run status $(jq -r .run.status "$TMP/out/summary.json" 2>/dev/null)"
python3 - "$TMP/lines" "$WORKERS" "$TMP/out/summary.json" <<'PY'
import json, sys
from datetime import datetime, timezone
started = json.load(open(sys.argv[3]))["run"]["started_at"]
start = datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
rows = []
for line in open(sys.argv[1]):
    t, _, js = line.partition(" ")
    j = json.loads(js)
    # Whole intervals only: the last lines of a run close partial intervals at the end instant.
    if abs(j["elapsed_s"] - round(j["elapsed_s"])) < 0.05:
        rows.append((float(t), j))
if not rows:
    sys.exit("no JSON lines: see the coordinator's stderr")
late = sorted((t - (start + round(j["elapsed_s"]))) * 1000 for t, j in rows)
gaps = [(rows[i][0] - rows[i - 1][0]) * 1000 for i in range(1, len(rows))]
alive = sorted({j["workers_alive"] for _, j in rows})
print(f"{len(rows)} whole-interval lines; workers alive in them: {alive} (of {sys.argv[2]})")
print(f"lateness after the intended interval end (started_at {started} + k x 1 s), ms: "
      f"min {late[0]:.1f}  p50 {late[len(late)//2]:.1f}  max {late[-1]:.1f}")
print(f"gap between lines, ms: min {min(gaps):.1f}  max {max(gaps):.1f}" if gaps else "one line only")
PY
