#!/usr/bin/env bash
# Issue 12 §3: one coordinator and N real `llmload worker --threads 1` processes on this machine
# complete a run, and the result's totals equal the server's own count (no worker is declared lost
# while it still sends load). For each N: the coordinator's exit code, workers ok/lost, the
# result's requests against the requests the mock's truth log holds, and how long the start took
# (the coordinator's "listening" line to its GO, as the first worker logs it).
#
#   bench/distributed_start.sh [BUILD_DIR]
# Environment: COUNTS ("50 100 200"), DUR (10 s), CONC_PER_WORKER (2).
set -uo pipefail
BUILD=${1:-build}
COUNTS=${COUNTS:-"50 100 200"}; DUR=${DUR:-10}; CPW=${CONC_PER_WORKER:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
for N in $COUNTS; do
  start_mock mock --threads 1 --ttft 50ms --itl 10ms --tokens 32 --truth "$TMP/truth-$N.jsonl"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  s0=$(stat_cpu)
  t0=$(date +%s.%N)
  "$BUILD/llmload" coordinator "$HERE/../scenarios/quickstart.yaml" --target "$MOCK_URL" \
    --workers "$N" --bind "tcp://127.0.0.1:$PORT" --concurrency $((CPW * N)) --duration "${DUR}s" \
    --quiet --no-report --out "$TMP/out-$N" > "$TMP/coord-$N.out" 2> "$TMP/coord-$N.err" &
  CPID=$!
  PIDS=()
  for i in $(seq "$N"); do
    "$BUILD/llmload" worker --connect "tcp://127.0.0.1:$PORT" --threads 1 --id "w$i" \
      > /dev/null 2> "$TMP/w$N-$i.err" &
    PIDS+=("$!")
  done
  for _ in $(seq $(( (DUR + 180) * 10 ))); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
  wait "$CPID"; CODE=$?
  s1=$(stat_cpu)
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  wait "${PIDS[@]}" 2>/dev/null
  stop_mock
  python3 - "$TMP" "$N" "$CODE" "$(steal_pct "$s0" "$s1")" <<'PY'
import json, sys
tmp, n, code, steal = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
served = 0
for line in open(f"{tmp}/truth-{n}.jsonl"):
    if line.strip() and json.loads(line).get("path") == "/v1/chat/completions":
        served += 1
try:
    s = json.load(open(f"{tmp}/out-{n}/summary.json"))
    ws = s["run"]["workers"]
    ok = sum(1 for w in ws if w["status"] == "ok")
    res = s["totals"]["requests"]
    lost = [w["id"] for w in ws if w["status"] != "ok"]
except (OSError, ValueError, KeyError):
    ok, res, lost = 0, 0, ["(no summary)"]
print(f"N={n}: exit {code}; workers ok {ok}/{n}, lost {len(lost)}{' ' + ','.join(lost[:5]) if lost else ''}; "
      f"result requests {res}, server received {served} ({'EQUAL' if res == served else 'DIFFER by ' + str(served - res)}); steal {steal}%")
PY
  grep -h "pre-flight\|lost" "$TMP/coord-$N.err" | head -3
done
