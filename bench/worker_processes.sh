#!/usr/bin/env bash
# Issue 18 point 4 (bench, not CI): N real `llmload worker --threads 1` processes (one event loop
# each) on this machine against one `llmload mock`, driven by one `llmload coordinator --json`.
# Checks, exit 1 if any fails:
# - the run completes (coordinator exit 0, run.status "completed", every worker "ok");
# - totals are exact: summary.json totals (requests, ok, failed, output tokens) equal the sum of
#   run.workers[].totals, and requests equal what the mock's truth log says it received;
# - every interval line comes out: DUR whole-interval lines on stdout (--json), all N workers
#   alive in each.
# Prints each worker process's memory: VmRSS and VmHWM (/proc/PID/status, read after the run while
# the workers wait for their next coordinator), min / median / max over the N processes, and the
# coordinator's CPU time and peak RSS. Steal over the run from /proc/stat.
#
#   bench/worker_processes.sh [BUILD_DIR]
# Environment: N (200), DUR (30 s), CONC_PER_WORKER (1); the mock streams 20 tokens per request
# with ttft 1 s and itl 50 ms (seconds-scale requests, ~10 tokens/s per worker: the 200 processes
# fit this 2-core machine; bench/distributed_start.sh showed 2 streams of 100 tokens/s each do not).
set -uo pipefail
BUILD=${1:-build}
N=${N:-200}; DUR=${DUR:-30}; CPW=${CONC_PER_WORKER:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
start_mock mock --threads 1 --ttft 1s --itl 50ms --tokens 20 --truth "$TMP/truth.jsonl"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$TMP/s.yaml" <<YAML
name: worker-processes
target: {url: $MOCK_URL, api: openai-chat, model: mock}
load: {concurrency: $((CPW * N)), duration: ${DUR}s, grace: 10s}
interval: 1s
prompts: {source: inline, items: [{text: hello, max_tokens: 20}]}
YAML
s0=$(stat_cpu)
/usr/bin/time -f "%e %U %S %M" -o "$TMP/coord.time" "$BUILD/llmload" coordinator "$TMP/s.yaml" \
  --workers "$N" --bind "tcp://127.0.0.1:$PORT" --json --no-report --out "$TMP/out" \
  --join-timeout 300s 2> "$TMP/coord.err" > "$TMP/lines" &
CPID=$!
WPIDS=()
for i in $(seq "$N"); do
  "$BUILD/llmload" worker --connect "tcp://127.0.0.1:$PORT" --threads 1 --id "w$i" \
    > /dev/null 2> "$TMP/w$i.err" &
  WPIDS+=("$!")
done
PIDS+=("${WPIDS[@]}")
for _ in $(seq $(( (DUR + 400) * 10 ))); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
kill -INT "$CPID" 2>/dev/null
wait "$CPID"; CODE=$?
s1=$(stat_cpu)
: > "$TMP/mem"
for p in "${WPIDS[@]}"; do
  awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/$p/status" >> "$TMP/mem" 2>/dev/null
done
for p in "${WPIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
wait "${WPIDS[@]}" 2>/dev/null
stop_mock
read -r WALL USR SYS RSS < <(tail -1 "$TMP/coord.time")
echo "# $N llmload worker processes x 1 loop, concurrency $((CPW * N)), ${DUR}s, mock ttft 1s itl 50ms 20 tokens; steal $(steal_pct "$s0" "$s1")%; $(uptime | sed 's/.*load/load/')"
echo "coordinator: exit $CODE, cpu $(echo "$USR + $SYS" | bc) s over ${WALL} s wall, peak RSS $((RSS / 1024)) MiB"
python3 - "$TMP" "$N" "$DUR" "$CODE" <<'PY'
import json, sys, statistics
tmp, n, dur, code = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ok = code == "0"
served = sum(1 for l in open(f"{tmp}/truth.jsonl")
             if l.strip() and json.loads(l).get("path") == "/v1/chat/completions")
s = json.load(open(f"{tmp}/out/summary.json"))
ws = s["run"]["workers"]; tot = s["totals"]
good = sum(1 for w in ws if w["status"] == "ok")
print(f"run status {s['run']['status']}; workers ok {good}/{n}")
ok = ok and s["run"]["status"] == "completed" and good == n and len(ws) == n
for k in ("requests", "ok", "failed", "output_tokens"):
    summed = sum(w["totals"][k] for w in ws)
    same = summed == tot[k]
    ok = ok and same
    print(f"totals.{k} {tot[k]} {'==' if same else '!='} sum over workers {summed}")
print(f"requests {tot['requests']} {'==' if tot['requests'] == served else '!='} mock received {served}"
      " (the mock counts every request it answered; requests cut by the end of the run count as"
      " cancelled on the client)")
ok = ok and tot["requests"] == served
lines = [json.loads(l) for l in open(f"{tmp}/lines") if l.strip()]
# A whole interval is a line of interval_s 1 (the workers' interval ends fall a few ms to ~100 ms
# after the start instant's multiples, so elapsed_s is not a whole number); the last line of a run
# closes a partial interval at the end instant.
whole = [j for j in lines if abs(j["interval_s"] - 1.0) < 1e-3]
alive = sorted({j["workers_alive"] for j in whole})
print(f"interval lines: {len(lines)} ({len(whole)} whole of {dur}); workers alive in them {alive}")
ok = ok and len(whole) >= dur and alive == [n]
mem = [tuple(map(int, l.split())) for l in open(f"{tmp}/mem") if l.strip()]
rss = sorted(m[0] for m in mem); hwm = sorted(m[1] for m in mem)
print(f"worker process memory over {len(mem)} processes, kB: VmRSS min {rss[0]} median "
      f"{statistics.median(rss):.0f} max {rss[-1]}; VmHWM min {hwm[0]} median "
      f"{statistics.median(hwm):.0f} max {hwm[-1]}; summary peak_rss_bytes median "
      f"{statistics.median(w.get('peak_rss_bytes', 0) for w in ws) / 1024:.0f} kB")
print("EXACT AND COMPLETE" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY
