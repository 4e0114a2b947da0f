#!/usr/bin/env bash
# Worker memory over long runs (issue 19): memory must stay flat however many requests the run
# makes. One `llmload run --threads 1` (coordinator and worker in one process) of REQUESTS
# requests against one `llmload mock` (its own process, loopback) per case; the client's RSS
# (VmRSS of /proc/PID/status) is sampled every second and printed at the start (the second
# sample: a dataset may still be loading then), a tenth of the way, the middle and the end, with
# its peak (VmHWM), the requests per second, the host's steal (/proc/stat) and load average
# (/proc/loadavg) before and after. With TRUTH=1 the mock's log also gives the distinct bodies
# (distinct body_hash values / requests).
#
# Cases (MODES, in order):
#   unique     synthetic prompts (~WORDS words) with unique_prefix
#   synthetic  synthetic prompts (~WORDS words) without unique_prefix
#   dataset    a JSONL dataset of DATASET entries (~WORDS words each), made by this script, read
#              by the worker (shuffle sampling, no unique_prefix): the whole file is held once,
#              so RSS rises by about the dataset's request bytes at the start, then stays flat
#
#   bench/prompt_memory.sh [BUILD_DIR]
# Environment: REQUESTS (1000000), CONNS (64), WORDS (200), TRUTH (0), DATASET (50000),
#              MODES ("unique synthetic dataset").
set -uo pipefail
BUILD=${1:-build}
REQUESTS=${REQUESTS:-1000000}; CONNS=${CONNS:-64}; WORDS=${WORDS:-200}; TRUTH=${TRUTH:-0}
DATASET=${DATASET:-50000}; MODES=${MODES:-unique synthetic dataset}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"

# make_dataset FILE: DATASET lines {"prompt": "<n> w w w ..."}, uniform WORDS/2 .. 3*WORDS/2 words.
make_dataset() {
  awk -v n="$DATASET" -v w="$WORDS" 'BEGIN {
    srand(7); split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima", v, " ");
    for (i = 0; i < n; i++) {
      k = int(w / 2 + rand() * w); s = "entry " i;
      for (j = 0; j < k; j++) s = s " " v[1 + int(rand() * 12)];
      printf "{\"prompt\": \"%s\"}\n", s;
    }
  }' > "$1"
}

run_case() {
  local mode=$1 prompts desc
  case $mode in
    unique)
      prompts="{source: synthetic, input_tokens: {dist: uniform, min: $((WORDS / 2)), max: $((WORDS * 3 / 2))}, unique_prefix: true}"
      desc="synthetic (~$WORDS words, unique_prefix)" ;;
    synthetic)
      prompts="{source: synthetic, input_tokens: {dist: uniform, min: $((WORDS / 2)), max: $((WORDS * 3 / 2))}}"
      desc="synthetic (~$WORDS words, no unique_prefix)" ;;
    dataset)
      make_dataset "$TMP/dataset.jsonl"
      prompts="{source: jsonl, file: $TMP/dataset.jsonl, sampling: shuffle}"
      desc="JSONL dataset of $DATASET entries (~$WORDS words, $(( $(stat -c %s "$TMP/dataset.jsonl") >> 20 )) MiB; shuffle, no unique_prefix)" ;;
    *) echo "unknown mode $mode" >&2; exit 1 ;;
  esac
  local truth=$TMP/truth-$mode.jsonl
  local mock_args=(--threads 1 --ttft 0s --itl 0s)
  [ "$TRUTH" = 1 ] && mock_args+=(--truth "$truth")
  start_mock "mock-$mode" "${mock_args[@]}"
  cat > "$TMP/s.yaml" <<YAML
name: prompt-memory-$mode
target: {url: $MOCK_URL, api: openai-chat, model: mock}
load: {concurrency: $CONNS, requests: $REQUESTS}
prompts: $prompts
output: {max_tokens: 1}
YAML
  local load0 load1 s0 s1 t0 t1 rc
  load0=$(cat /proc/loadavg)
  s0=$(stat_cpu)
  "$BUILD/llmload" run "$TMP/s.yaml" --threads 1 --out "$TMP/out-$mode" --no-report > "$TMP/run-$mode.out" 2>&1 &
  RUN_PID=$!
  PIDS+=("$RUN_PID")
  t0=$(date +%s.%N)
  : > "$TMP/rss-$mode"
  while kill -0 "$RUN_PID" 2>/dev/null; do
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$RUN_PID/status" 2>/dev/null)
    [ -n "$rss" ] && echo "$(date +%s.%N) $rss $(proc_hwm_kb "$RUN_PID")" >> "$TMP/rss-$mode"
    sleep 1
  done
  wait "$RUN_PID"; rc=$?
  t1=$(date +%s.%N)
  s1=$(stat_cpu)
  load1=$(cat /proc/loadavg)
  stop_mock
  [ "$rc" = 0 ] || { echo "$mode: run failed ($rc):"; tail -20 "$TMP/run-$mode.out"; exit 1; }
  local n start tenth middle end hwm wall
  n=$(wc -l < "$TMP/rss-$mode")
  # The first sample is taken before load starts (pre-flight); "start" is the second one.
  pick() { sed -n "$1p" "$TMP/rss-$mode" | awk '{print $2}'; }
  start=$(pick 2); tenth=$(pick $(( n / 10 > 2 ? n / 10 : 2 ))); middle=$(pick $(( (n + 1) / 2 ))); end=$(pick "$n")
  hwm=$(tail -1 "$TMP/rss-$mode" | awk '{print $3}')
  wall=$(echo "$t1 - $t0" | bc)
  echo "# $mode: $REQUESTS requests, $desc, concurrency $CONNS, client --threads 1, mock --threads 1"
  echo "rss_kb start $start 10% $tenth middle $middle end $end (samples $n, 1 s apart); peak $hwm kB"
  printf "wall %.1f s, %.0f requests/s, steal %s %%\n" "$wall" "$(echo "$REQUESTS / $wall" | bc -l)" "$(steal_pct "$s0" "$s1")"
  echo "loadavg before: $load0; after: $load1"
  if [ "$TRUTH" = 1 ]; then
    sleep 0.5
    echo "truth: $(grep -c '"api":"openai-chat"' "$truth") requests, $(grep '"api":"openai-chat"' "$truth" | grep -o '"body_hash":"[0-9a-f]*"' | sort -u | wc -l) distinct bodies"
  fi
}

for mode in $MODES; do run_case "$mode"; done
