#!/usr/bin/env bash
# Timing error under the load real servers make (issue 14 "Benchmarks"): all streams in phase,
# against `llmload mock` as its own process on loopback, no real-time priority. The issue's two
# loads, each run with kernel receive stamps and then with clock stamps (`--timestamps kernel`,
# `--timestamps clock`; a binary without the flag runs once, with what it has, and says so):
#   A: 500 streams, mock ttft 50 ms, itl 10 ms, 128 tokens, 8,400 requests
#   B: 2,000 streams, mock ttft 50 ms, itl 20 ms, 48 tokens, 8,000 requests
# Per request, joined on request_id with the mock's --truth log:
#   rel = |client (ttft - ttfb) - mock (first_content_ns - headers_ns)|            (target p99 <= 1 ms)
#   abs = |sent_unix_ns + ttft - (first_content_ns + unix_offset_ns)|               (target p99 <= 1 ms)
# (abs needs requests.csv's sent_unix_ns and the truth log's unix_offset_ns; without them it is
# reported as unavailable). Also: client TTFT p50/p99 against the mock's 50 ms, the run's
# run.client fields (timestamps source and share, timing_uncertain_share, saturation), the mock's
# emission lateness (its stats line) and steal. One mock process per run, so its lateness is that
# run's.
#
#   bench/engine_timing.sh [BUILD_DIR]
# Environment: LOADS ("A B"), STAMPS ("kernel clock"), THREADS (client loops, 1),
#   MODE (concurrency | ramp | rate; the issue's figures are concurrency: every stream starts
#   together), RAMP (2) and DUR (10 s) for ramp and rate, PRIO (see engine_lib.sh; the issue's
#   figures are without it). CONNS, TTFT, ITL, TOKENS, REQUESTS replace the load's own values
#   (for a smaller check run only: the issue's figures are the loads above as they are).
# MODE=ramp ramps the streams up over RAMP seconds and holds them for DUR, so each keeps the phase
# it started with (sends spread over each ITL); MODE=rate keeps ~CONNS in flight with Poisson
# arrivals (its ttft runs from the intended start, so the join includes the client's start
# lateness). Both are for comparison with docs/benchmarks.md section 4, not the issue's loads.
set -uo pipefail
BUILD=${1:-build-bench}
LOADS=${LOADS:-"A B"}; STAMPS=${STAMPS:-"kernel clock"}; THREADS=${THREADS:-1}
MODE=${MODE:-concurrency}; DUR=${DUR:-10}; PRIO=${PRIO:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"
ms() { echo "${1%ms}"; }
prio_wrap

# load_params NAME: sets CONNS TTFT ITL TOKENS REQUESTS (an environment value wins).
load_params() {
  local c t i k r
  case $1 in
    A) c=500; t=50ms; i=10ms; k=128; r=8400 ;;
    B) c=2000; t=50ms; i=20ms; k=48; r=8000 ;;
    *) echo "unknown load '$1' in LOADS (A or B)" >&2; exit 1 ;;
  esac
  L_CONNS=${CONNS:-$c}; L_TTFT=${TTFT:-$t}; L_ITL=${ITL:-$i}; L_TOKENS=${TOKENS:-$k}
  L_REQUESTS=${REQUESTS:-$r}
}

if "$BUILD/llmload" run --help 2>&1 | grep -q -- '--timestamps'; then
  HAS_STAMPS=1
else
  HAS_STAMPS=0
  echo "# this llmload has no --timestamps flag: each load runs once, with its own stamps"
  STAMPS=default
fi
echo "# fd limit $(ulimit -n) (hard $(ulimit -Hn)); mode $MODE; client --threads $THREADS${PRIO:+; under $PRIO}"

# run_one LOAD STAMPS: one mock, one client run, the join. Appends a row to $TMP/table.
run_one() {
  local load=$1 stamps=$2 tag="$1-$2" flag=() rate=""
  load_params "$load"
  if [ "$(ulimit -n)" -lt $((L_CONNS + 100)) ]; then
    echo "fd limit $(ulimit -n) is too low for $L_CONNS streams (raise ulimit -n)" >&2; exit 1
  fi
  start_mock "mock-$tag" --threads 1 --ttft "$L_TTFT" --itl "$L_ITL" --tokens "$L_TOKENS" \
    --truth "$TMP/truth-$tag.jsonl"
  local load_yaml
  if [ "$MODE" = rate ]; then
    rate=$(echo "scale=1; 1000 * $L_CONNS / ($(ms "$L_TTFT") + ($L_TOKENS - 1) * $(ms "$L_ITL"))" | bc)
    load_yaml="{rate: $rate, arrival: poisson, max_in_flight: $((L_CONNS * 2)), duration: ${DUR}s, grace: 10s}"
  elif [ "$MODE" = ramp ]; then
    load_yaml="{concurrency: 1, stages: [{duration: ${RAMP:-2}s, concurrency: $L_CONNS}, {duration: ${DUR}s, concurrency: $L_CONNS}], duration: $(( ${RAMP:-2} + DUR ))s, grace: 10s}"
  else
    load_yaml="{concurrency: $L_CONNS, requests: $L_REQUESTS}"
  fi
  cat > "$TMP/s-$tag.yaml" <<YAML
name: engine-timing
target: {url: $MOCK_URL, api: openai-chat, model: mock, stream_options: {include_usage: false}}
load: $load_yaml
prompts: {source: inline, items: [{text: hello, max_tokens: $L_TOKENS}]}
YAML
  [ "$HAS_STAMPS" = 1 ] && flag=(--timestamps "$stamps")
  measure "run-$tag" 300 "$BUILD/llmload" run "$TMP/s-$tag.yaml" --threads "$THREADS" "${flag[@]}" \
    --requests-csv --no-report --out "$TMP/out-$tag"
  stop_mock
  echo
  echo "## load $load ($MODE): $L_CONNS streams, $L_REQUESTS requests${rate:+ (Poisson $rate/s for ${DUR}s)}; mock --threads 1 --ttft $L_TTFT --itl $L_ITL --tokens $L_TOKENS; stamps: $stamps"
  echo "client rc=$M_RC cpu=${M_CPU}s wall=${M_WALL}s steal=${M_STEAL}%"
  [ "$M_RC" = 0 ] || tail -3 "$TMP/run-$tag.stderr" | sed 's/^/  stderr: /'
  echo "run.client: $(jq -c '.run.client' "$TMP/out-$tag/summary.json" 2>/dev/null)"
  echo "mock: $(tail -1 "$TMP/mock-$tag.err")"
  python3 - "$TMP/out-$tag/requests.csv" "$TMP/truth-$tag.jsonl" "$TMP/out-$tag/summary.json" \
    "$TMP/mock-$tag.err" "$(ms "$L_TTFT")" "$load $stamps" "$M_STEAL" >> "$TMP/table" <<'PY'
import csv, json, re, sys
rows_path, truth_path, summary_path, mock_err, ttft_target, label, steal = sys.argv[1:8]
truth = {}
for line in open(truth_path):
    t = json.loads(line)
    if t.get("first_content_ns") and t.get("headers_ns"):
        truth[t["id"]] = t
rel, absolute, cttft, unmatched, ok = [], [], [], 0, 0
has_abs = None
for r in csv.DictReader(open(rows_path)):
    if r["outcome"] != "ok" or not r["ttft_ms"] or not r["ttfb_ms"]:
        continue
    ok += 1
    t = truth.get(r["request_id"])
    if t is None:
        unmatched += 1
        continue
    ttft = float(r["ttft_ms"])
    rel.append(abs((ttft - float(r["ttfb_ms"])) - (t["first_content_ns"] - t["headers_ns"]) / 1e6))
    cttft.append(ttft)
    if has_abs is None:
        has_abs = bool(r.get("sent_unix_ns")) and "unix_offset_ns" in t
    if has_abs:
        client_first = int(r["sent_unix_ns"]) + ttft * 1e6
        absolute.append(abs(client_first - (t["first_content_ns"] + t["unix_offset_ns"])) / 1e6)
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")
def trio(v):
    return f"p50 {pct(v,50):.3f} p99 {pct(v,99):.3f} max {max(v):.3f}" if v else "n/a"
print(f"joined {len(rel)} of {ok} ok requests ({unmatched} without a truth line)", file=sys.stderr)
print(f"|rel| ms (client ttft-ttfb vs mock first_content-headers): {trio(rel)}", file=sys.stderr)
print("|abs| ms (sent_unix_ns+ttft vs first_content_ns+unix_offset_ns): " +
      (trio(absolute) if has_abs else "unavailable (no sent_unix_ns in requests.csv or no "
       "unix_offset_ns in the truth log)"), file=sys.stderr)
print(f"client ttft ms: p50 {pct(cttft,50):.3f} p99 {pct(cttft,99):.3f} (mock ttft {ttft_target} ms)",
      file=sys.stderr)
try:
    c = json.load(open(summary_path))["run"]["client"]
except (OSError, KeyError, ValueError):
    c = {}
def field(k, fmt="{}"):
    if k not in c or c[k] is None:
        return "-"
    return json.dumps(c[k]) if isinstance(c[k], (bool, str)) else fmt.format(c[k])
late = re.search(r"lateness p50 ([0-9.]+) us, p99 ([0-9.]+) us", open(mock_err).read())
print("| " + " | ".join([
    label, str(len(rel)), f"{pct(rel,99):.3f}", f"{max(rel):.3f}" if rel else "-",
    f"{pct(absolute,99):.3f}" if absolute else "-", f"{max(absolute):.3f}" if absolute else "-",
    f"{pct(cttft,50):.1f} / {pct(cttft,99):.1f}",
    field("timestamps") + (" " + field("timestamps_kernel_share", "{:.3f}") if "timestamps_kernel_share" in c else ""),
    field("timing_uncertain_share", "{:.3f}"), field("loop_lag_ms_p99", "{:.1f}"),
    field("saturated"), (f"{late.group(1)} / {late.group(2)} us" if late else "-"), steal + " %"]) + " |")
PY
}

: > "$TMP/table"
for L in $LOADS; do
  for S in $STAMPS; do run_one "$L" "$S" 2>&1; done
done
echo
echo "| load, stamps | joined | \|rel\| p99 | \|rel\| max | \|abs\| p99 | \|abs\| max | TTFT p50 / p99 | timestamps | uncertain share | loop lag p99 | saturated | mock lateness p50 / p99 | steal |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$TMP/table"
