#!/usr/bin/env bash
# Issue 18 point 3: one real `llmload coordinator` (the binary, CURVE on, --json) and WORKERS
# simulated workers held by PROCS `coordinator_scale` processes (bench/coordinator_scale.cpp: one
# DEALER socket per worker, the real protocol, seconds-scale interval histograms of 10 groups x
# every metric, distinct per worker and interval), each worker reporting every second for DUR s.
#
# Figures, for each count in COUNTS:
# - lateness of every whole-interval line of the coordinator's --json output: the line is stamped
#   on arrival (CLOCK_MONOTONIC, python's time.monotonic_ns) and compared with its intended time,
#   GO's start instant + k x 1 s (the start is on the coordinator's clock, which on one machine is
#   the workers' CLOCK_MONOTONIC; k = the line's elapsed_s). p50 / p99 / max over the DUR lines.
#   Beside it, how late the simulators themselves got each interval's last report out.
# - the coordinator's CPU (utime + stime, /proc/PID/stat, sampled every 200 ms) over the measured
#   window (start .. start + DUR): per second, and per report sent in it; and from the start to
#   its exit (every report merged: the fair figure when it fell behind during the window).
# - its resident set (VmRSS) at the end of the window; with two counts, the slope per worker.
# - steal: the share of all CPU time /proc/stat counts as steal over the window.
# - exactness: summary.json's totals and every metric's count must equal the sums the simulators
#   sent (exit 1 if not), every interval line must come out (DUR of them), all workers alive.
#
#   bench/coordinator_scale.sh [BUILD_DIR]
# Environment: COUNTS ("250 1000"), PROCS (4), DUR (60), GROUPS_PER_REPORT (10), REQUESTS (10 per group and
# interval), PRIO (see engine_lib.sh; applies to the coordinator only), KEEP=1 keeps the files.
set -uo pipefail
BUILD=${1:-build}
COUNTS=${COUNTS:-"250 1000"}; PROCS=${PROCS:-4}; DUR=${DUR:-60}
NGROUPS=${GROUPS_PER_REPORT:-10}; REQUESTS=${REQUESTS:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
SIM="$BUILD/bench/coordinator_scale"
[ -x "$SIM" ] || { echo "no $SIM: ninja -C $BUILD coordinator_scale" >&2; exit 1; }
prio_wrap
"$BUILD/llmload" keygen --out "$TMP/coord" > /dev/null || exit 1
"$BUILD/llmload" keygen --out "$TMP/worker" > /dev/null || exit 1
fail=0
results=()
for W in $COUNTS; do
  D="$TMP/w$W"; mkdir -p "$D"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # The target is never contacted: simulated workers send no load. Concurrency is only split.
  cat > "$D/s.yaml" <<YAML
name: coordinator-scale
target: {url: "http://127.0.0.1:9/v1", api: openai-chat, model: m}
load: {concurrency: $((W * 10)), duration: ${DUR}s, grace: 5s}
interval: 1s
prompts: {source: inline, items: [{text: hello, max_tokens: 20}]}
YAML
  "$BUILD/llmload" coordinator "$D/s.yaml" --workers "$W" --bind "tcp://127.0.0.1:$PORT" \
    --curve-key "$TMP/coord" --allow-keys "$TMP/worker.pub" --json --no-report --out "$D/out" \
    --join-timeout 300s 2> "$D/coord.err" \
    > >(python3 -u -c '
import sys, time
for line in sys.stdin:
    print(time.monotonic_ns(), line, end="", flush=True)' > "$D/lines") &
  CPID=$!
  PIDS+=("$CPID")
  # Sampler: monotonic ns, the coordinator's utime+stime ticks, VmRSS kB, /proc/stat steal, total.
  python3 -u - "$CPID" > "$D/samples" <<'PY' &
import sys, time, os
pid = sys.argv[1]
while os.path.exists(f"/proc/{pid}/stat"):
    try:
        st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
        cpu = open("/proc/stat").readline().split()[1:]
    except (OSError, IndexError):
        break
    print(time.monotonic_ns(), int(st[11]) + int(st[12]), rss, cpu[7], sum(map(int, cpu)))
    time.sleep(0.2)
PY
  SPID=$!
  SIMS=()
  per=$(( (W + PROCS - 1) / PROCS ))
  left=$W
  for p in $(seq 0 $((PROCS - 1))); do
    n=$(( left < per ? left : per )); [ "$n" -gt 0 ] || break
    left=$((left - n))
    "$SIM" --connect "tcp://127.0.0.1:$PORT" --curve-key "$TMP/worker" --server-key "$TMP/coord.pub" \
      --workers "$n" --id-prefix "p$p" --seed $((p + 1)) --groups "$NGROUPS" --requests "$REQUESTS" \
      --sent "$D/sent$p.json" --timeout $((DUR + 300)) 2> "$D/sim$p.err" &
    SIMS+=("$!")
  done
  simrc=0
  for s in "${SIMS[@]}"; do wait "$s" || simrc=1; done
  wait "$CPID"; crc=$?
  wait "$SPID" 2>/dev/null
  [ "$simrc" = 0 ] || { echo "a simulator failed: $(cat "$D"/sim*.err | grep -v 'report bytes' | head -5)" >&2; fail=1; }
  echo "# $W simulated workers in $PROCS processes, CURVE, ${DUR} s; coordinator exit $crc; $(uptime | sed 's/.*load/load/')"
  grep -h "report bytes" "$D"/sim*.err | head -1
  python3 - "$D" "$W" "$DUR" > "$D/figures" <<'PY'
import glob, json, sys
d, workers, dur = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent = [json.load(open(f)) for f in sorted(glob.glob(f"{d}/sent*.json"))]
if not sent:
    sys.exit("no simulator wrote its totals: see sim*.err")
start = sent[0]["start_mono_ns"]; iv = sent[0]["interval_ns"]
if any(s["start_mono_ns"] != start for s in sent):
    print("NOTE: the processes got different start instants:", [s["start_mono_ns"] for s in sent])
print(f"simulator processes that wrote their totals: {len(sent)}; workers stopped early: "
      f"{sum(s.get('stopped_early', 0) for s in sent)}")
lines = []
for l in open(f"{d}/lines"):
    t, _, js = l.partition(" ")
    j = json.loads(js)
    if abs(j["elapsed_s"] - round(j["elapsed_s"])) < 0.05 and round(j["elapsed_s"]) >= 1:
        lines.append((int(t), j))
late = sorted((t - (start + round(j["elapsed_s"]) * iv)) / 1e6 for t, j in lines)
pct = lambda v, q: v[min(len(v) - 1, int(q * len(v)))]
ok = True
print(f"interval lines: {len(lines)} of {dur}; workers alive in them: "
      f"{sorted({j['workers_alive'] for _, j in lines})}")
if len(lines) != dur or any(j["workers_alive"] != workers for _, j in lines) or \
        any(s.get("stopped_early", 0) for s in sent):
    ok = False; print("FAIL: missing interval lines or workers")
if late:
    print(f"lateness vs start + k x 1 s, ms: p50 {pct(late, .5):.1f}  p99 {pct(late, .99):.1f}  "
          f"max {late[-1]:.1f}")
simlate = sorted(max(s["last_send_late_ns"][k] for s in sent if k < len(s["last_send_late_ns"])) / 1e6
                 for k in range(max(len(s["last_send_late_ns"]) for s in sent)))
print(f"simulators' last report of an interval sent after its due time, ms: p50 "
      f"{pct(simlate, .5):.1f}  p99 {pct(simlate, .99):.1f}  max {simlate[-1]:.1f}")
# CPU and RSS over the measured window, from the 200 ms samples.
smp = [list(map(int, l.split())) for l in open(f"{d}/samples")]
hz = 100
def at(t):
    return min(smp, key=lambda s: abs(s[0] - t))
a, b = at(start), at(start + dur * iv)
cpu_s = (b[1] - a[1]) / hz; wall_s = (b[0] - a[0]) / 1e9
reports = sum(s["reports"] for s in sent)
steal = 100 * (b[3] - a[3]) / max(1, b[4] - a[4])
print(f"coordinator CPU over the window: {cpu_s:.2f} s in {wall_s:.1f} s = {cpu_s / wall_s:.3f} "
      f"core; {reports} reports: {1e6 * cpu_s / reports:.0f} us CPU per report; steal {steal:.1f}%")
z = smp[-1]  # the last sample before the coordinator exited: every report merged, results written
print(f"coordinator CPU from the start to its exit: {(z[1] - a[1]) / hz:.2f} s = "
      f"{1e6 * (z[1] - a[1]) / hz / max(1, reports):.0f} us per report sent; per second of the "
      f"window {(z[1] - a[1]) / hz / dur:.3f} core")
print(f"coordinator RSS at the window's end: {b[2]} kB; peak sampled {max(s[2] for s in smp)} kB")
print(f"RSS_KB {b[2]}")
try:
    summ = json.load(open(f"{d}/out/summary.json"))
except OSError:
    sys.exit("no summary.json: see coord.err")
tot = summ["totals"]
for k in ("requests", "ok", "failed", "output_tokens", "input_tokens"):
    want = sum(s[k] for s in sent)
    if tot[k] != want:
        ok = False; print(f"FAIL: totals.{k} {tot[k]} != sent {want}")
for m in sent[0]["metric_counts"]:
    want = sum(s["metric_counts"][m] for s in sent)
    got = summ["metrics"].get(m, {}).get("count", 0)
    if got != want:
        ok = False; print(f"FAIL: metrics.{m}.count {got} != sent {want}")
print(f"exact: {'yes' if ok else 'NO'} (requests {tot['requests']}, itl values "
      f"{summ['metrics']['itl']['count']}, {reports} reports); run status {summ['run']['status']}")
sys.exit(0 if ok else 1)
PY
  prc=$?
  cat "$D/figures"
  [ "$prc" = 0 ] && [ "$crc" = 0 ] || fail=1
  results+=("$W $(awk '/^RSS_KB/{print $2}' "$D/figures")")
done
if [ "${#results[@]}" -ge 2 ]; then
  read -r w0 r0 <<< "${results[0]}"; read -r w1 r1 <<< "${results[-1]}"
  echo "memory per worker: (RSS at $w1 - RSS at $w0) / $((w1 - w0)) = $(( (r1 - r0) / (w1 - w0) )) kB" \
       "($(( (r1 - r0) * 1024 / (w1 - w0) )) bytes)"
fi
exit $fail
