// The cost of writing prompts per request (issue 19): generating N words of synthetic text from
// a key (common/synthetic_text.h), and writing a whole request from a run plan's template
// (worker/body_template.h: the prompt hole filled, max_tokens drawn, Content-Length written),
// for an openai-chat request of 1,000 words. Reports ns per prompt and bytes per second; compare
// with the request's whole client CPU (docs/benchmarks.md, record_overhead.sh: tens of µs).
// BM_WriteRequestExactTokens: the same with prompts.tokenizer and unique_prefix (Llama 3's
// vocabulary from LLMLOAD_TOKENIZER_DIR, see tokenizer_bench.cpp).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "common/prompts.h"
#include "common/scenario.h"
#include "common/synthetic_text.h"
#include "worker/run_plan.h"

namespace llmload {
namespace {

void BM_SyntheticTokens(benchmark::State& state) {
  const int64_t words = state.range(0);
  std::string out;
  int64_t seq = 0;
  for (auto _ : state) {
    out.clear();
    append_synthetic_tokens(out, request_key(1, 0, seq++), words);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(out.size()));
  state.counters["bytes"] = double(out.size());
}
BENCHMARK(BM_SyntheticTokens)->Arg(100)->Arg(1000)->Arg(8000);

// `extra`: more prompts: fields (e.g. a tokenizer and unique_prefix).
void write_request(benchmark::State& state, const std::string& extra) {
  auto s = parse_scenario(
      "targets: [{url: \"http://127.0.0.1:9\", model: m}]\n"
      "load: {concurrency: 1, requests: 10}\n"
      "prompts: {source: synthetic, input_tokens: " +
          std::to_string(state.range(0)) + extra +
          "}\n"
          "output: {max_tokens: {dist: uniform, min: 16, max: 256}}\n",
      "bench.yaml", "/");
  if (!s.ok()) {
    state.SkipWithError(s.error().c_str());
    return;
  }
  auto prompts = sample_prompts(*s, 1, 1);
  if (!prompts.ok()) {
    state.SkipWithError(prompts.error().c_str());
    return;
  }
  auto plan = worker::build_run_plan(*s, *prompts);
  if (!plan.ok()) {
    state.SkipWithError(plan.error().c_str());
    return;
  }
  const worker::RunPlan& p = *plan.value();
  worker::HttpRequest out;
  std::string scratch;
  int64_t seq = 0;
  for (auto _ : state) {
    worker::BodyFill f;
    f.key = f.tag_key = request_key(1, 0, seq++);
    p.groups[0].templates[0].write(out, scratch, p.writer, f);
    benchmark::DoNotOptimize(out.bytes().data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(out.bytes().size()));
  state.counters["bytes"] = double(out.bytes().size());
}

void BM_WriteRequestFromTemplate(benchmark::State& state) {
  write_request(state, "");
}
BENCHMARK(BM_WriteRequestFromTemplate)->Arg(100)->Arg(1000)->Arg(8000);

// With prompts.tokenizer (exact in its tokens: one-token words, the unique_prefix tag counted
// per request) on Llama 3's vocabulary: LLMLOAD_TOKENIZER_DIR as for tokenizer_bench (skipped
// without it).
void write_exact(benchmark::State& state, bool unique) {
  const char* dir = std::getenv("LLMLOAD_TOKENIZER_DIR");
  if (dir == nullptr) {
    state.SkipWithError("LLMLOAD_TOKENIZER_DIR is not set");
    return;
  }
  write_request(state, std::string(unique ? ", unique_prefix: true" : "") + ", tokenizer: " + dir +
                           "/llama3.json");
}
void BM_WriteRequestExactTokens(benchmark::State& state) {
  write_exact(state, false);
}
BENCHMARK(BM_WriteRequestExactTokens)->Arg(100)->Arg(1000)->Arg(8000);
void BM_WriteRequestExactTokensTagged(benchmark::State& state) {
  write_exact(state, true);
}
BENCHMARK(BM_WriteRequestExactTokensTagged)->Arg(100)->Arg(1000)->Arg(8000);

}  // namespace
}  // namespace llmload
