#!/usr/bin/env bash
# The cost of recording more than latencies, as client CPU per token at 500 streams: what the
# server says about itself (issue 15: <= 3 %) and the per-call log (issue 16: --requests-jsonl
# within 5 %). `llmload run --threads 1`, 500 streams in phase against ONE `llmload mock` process
# (its own process, loopback), four ways, alternated ROUNDS times so drift hits each alike:
#   plain    the mock sends usage only: no server timings, no scrape
#   server   the mock's final chunk carries llama.cpp-style `timings` (--usage final): every ok
#            request records the server.* histograms
#   scrape   as server, and --target-metrics on the mock's /metrics (scraped every interval)
#   jsonl    as plain, with --requests-jsonl (one JSON line per request, flushed per interval)
#   counted  the mock sends no usage (x-mock-usage: none): output tokens are counted chunks
#   tokenized  as counted, with prompts.tokenizer: each request keeps its streamed text and the
#            tokenizer counts it when the request ends (issue 20 point 2b; TOKENIZER=FILE, else
#            a byte-level tiktoken file with no merges is generated)
#   tokusage as plain (usage sent), with prompts.tokenizer: the file is loaded and the text kept
#            until the usage chunk, but never encoded (tokenized − tokusage: the encoding)
# Client CPU = user + sys of the llmload process (coordinator, worker loop, results writing), per
# output token of summary.json. Prints each run, then the median µs/token of each way and its
# ratio to plain, and the median CPU seconds per run (every way streams the same chunks), with
# the host's steal.
#
#   bench/record_overhead.sh [BUILD_DIR]
# Environment: CONNS (500), ROUNDS (5), TOKENS (200), ITL (10ms), REQUESTS per run (CONNS × 3),
# WAYS (all seven; the first is the ratios' base), TOKENIZER (for `tokenized`, `tokusage`).
set -uo pipefail
BUILD=${1:-build-bench}
CONNS=${CONNS:-500}; ROUNDS=${ROUNDS:-5}; TOKENS=${TOKENS:-200}; ITL=${ITL:-10ms}
REQUESTS=${REQUESTS:-$((CONNS * 3))}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/engine_lib.sh"

start_mock mock --threads 1 --ttft 50ms --itl "$ITL" --tokens "$TOKENS"
scenario() {  # scenario NAME EXTRA_TARGET_FIELDS [EXTRA_PROMPTS_FIELDS]
  cat > "$TMP/$1.yaml" <<YAML
name: record-overhead-$1
target: {url: $MOCK_URL, api: openai-chat, model: mock$2}
load: {concurrency: $CONNS, requests: $REQUESTS}
prompts: {source: inline, items: [{text: hello, max_tokens: $TOKENS}]${3:-}}
YAML
}
WAYS=${WAYS:-plain server scrape jsonl counted tokenized tokusage}
if [ -z "${TOKENIZER:-}" ]; then
  TOKENIZER="$TMP/bytes_cl100k_base.tiktoken"
  for b in $(seq 0 255); do
    # shellcheck disable=SC2059
    echo "$(printf "\\x$(printf %02x "$b")" | base64) $b"
  done > "$TOKENIZER"
fi
scenario plain ""
scenario server ", headers: {x-mock-usage: final}"
scenario scrape ", headers: {x-mock-usage: final}, metrics_url: $MOCK_URL/metrics"
cp "$TMP/plain.yaml" "$TMP/jsonl.yaml"
scenario counted ", headers: {x-mock-usage: none}"
scenario tokenized ", headers: {x-mock-usage: none}" ", tokenizer: $TOKENIZER"
scenario tokusage "" ", tokenizer: $TOKENIZER"
echo "# $CONNS streams in phase, $REQUESTS requests x $TOKENS tokens per run, mock --threads 1 --itl $ITL, client --threads 1"
printf "%-7s %5s %9s %8s %9s %7s %s\n" way round tokens cpu_s us/token steal% server.eval_ms
declare -A RESULTS CPUS
for r in $(seq "$ROUNDS"); do
  for way in $WAYS; do
    EXTRA=()
    [ "$way" = jsonl ] && EXTRA=(--requests-jsonl "$TMP/calls-$r.jsonl")
    measure "$way$r" 300 "$BUILD/llmload" run "$TMP/$way.yaml" --threads 1 --quiet --no-report \
      --out "$TMP/out-$way$r" "${EXTRA[@]}"
    S="$TMP/out-$way$r/summary.json"
    T=$(jq '.totals.output_tokens' "$S" 2>/dev/null || echo 0)
    EV=$(jq -r '.metrics["server.eval_ms"].count // 0' "$S" 2>/dev/null)
    US=$(echo "scale=3; $M_CPU * 1000000 / ($T + (${T:-0} == 0))" | bc)
    RESULTS[$way]+="$US "
    CPUS[$way]+="$M_CPU "
    printf "%-7s %5s %9s %8s %9s %7s %s\n" "$way" "$r" "$T" "$M_CPU" "$US" "$M_STEAL" "$EV"
    [ "$M_RC" = 0 ] || tail -3 "$TMP/$way$r.stderr" | sed 's/^/  stderr: /'
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
FIRST=${WAYS%% *}
BASE=$(echo "${RESULTS[$FIRST]}" | median)
for way in $WAYS; do
  M=$(echo "${RESULTS[$way]}" | median)
  C=$(echo "${CPUS[$way]}" | median)
  # tokenized counts a tokenizer's tokens, not the streamed chunks: compare its CPU per run.
  printf "median %-9s %8.3f us/token  ratio to %s %.3f  cpu_s per run %.2f\n" "$way" "$M" "$FIRST" \
    "$(echo "scale=4; $M / $BASE" | bc)" "$C"
done
