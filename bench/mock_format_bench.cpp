// Micro-benchmarks of the mock's per-token path: formatting one streamed token event into the
// reused buffers (per API), and rescheduling a stream in the loop's DueHeap.
#include <benchmark/benchmark.h>

#include "mock/due_heap.h"
#include "mock/stream_format.h"

using namespace llmload::mock;

namespace {

Generation make_gen(Api api, const TokenText& text) {
  Generation g;
  g.api = api;
  g.stream = true;
  g.model_json = "\"llama-3-8b\"";
  g.id = "mock-0-12345";
  g.created_s = 1795457646;
  g.created_at = "2026-11-23T19:00:00.000000Z";
  g.content_tokens = 1 << 20;
  g.text = &text;
  return g;
}

void BM_FormatToken(benchmark::State& state) {
  TokenText text(1);
  Generation g = make_gen(Api(state.range(0)), text);
  OutBuffer out(64 * 1024), scratch(16 * 1024);
  const StreamFormat& f = StreamFormat::for_api(g.api);
  int i = 0;
  for (auto _ : state) {
    out.clear();
    ChunkSink sink(out, scratch);
    f.tokens(g, i++ & 0xffff, 1, sink);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(api_name(g.api));
}
BENCHMARK(BM_FormatToken)
    ->Arg(int(Api::kOpenAiChat))
    ->Arg(int(Api::kOllamaChat))
    ->Arg(int(Api::kAnthropicMessages));

void BM_DueHeapReschedule(benchmark::State& state) {
  const int n = int(state.range(0));
  std::vector<DueHeap::Item> items(static_cast<size_t>(n));
  DueHeap heap;
  for (int i = 0; i < n; ++i) heap.schedule(&items[size_t(i)], int64_t(i) * 997 % 1'000'000);
  int64_t t = 1'000'000;
  for (auto _ : state) {
    DueHeap::Item* top = heap.pop();
    heap.schedule(top, t += 100);
  }
}
BENCHMARK(BM_DueHeapReschedule)->Arg(2000)->Arg(10000);

}  // namespace
