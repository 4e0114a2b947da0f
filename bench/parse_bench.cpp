// Micro-benchmarks of the per-chunk hot path: one typical OpenAI chat content event (as vLLM and
// llama.cpp send it) fed to the SSE parser and classified by the openai-chat adapter. Reports
// ns per event. Variants: parse only, classify only, parse+classify with the event split across
// two reads, and the Ollama NDJSON and Anthropic equivalents.
#include <benchmark/benchmark.h>

#include <string>

#include "worker/api_adapter.h"
#include "worker/ndjson_parser.h"
#include "worker/sse_parser.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

const std::string kOpenAiEvent =
    "data: "
    "{\"id\":\"chatcmpl-pNDWvNaOTZCkOvUmOSg5qSPgI3ZpLiTJ\",\"object\":\"chat.completion.chunk\","
    "\"created\":1795457646,\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"system_fingerprint\":"
    "\"b4748-c392e5094\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" lighthouse\"},"
    "\"logprobs\":null,\"finish_reason\":null}]}\n\n";

const std::string kOllamaLine =
    "{\"model\":\"llama3.2\",\"created_at\":\"2024-10-07T08:52:19.385406455-07:00\",\"message\":"
    "{\"role\":\"assistant\",\"content\":\" lighthouse\"},\"done\":false}\n";

const std::string kAnthropicEvent =
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\" lighthouse\"}}\n\n";

struct ClassifySink : SseParser::Sink, NdjsonParser::Sink {
  const ApiAdapter* adapter;
  StreamState state;
  ChunkInfo info;
  int64_t tokens = 0;
  bool on_event(std::string_view e, std::string_view d) override {
    adapter->classify(e, d, state, info);
    tokens += info.tokens;
    return true;
  }
  bool on_line(std::string_view l) override { return on_event({}, l); }
};

struct CountSink : SseParser::Sink {
  size_t bytes = 0;
  bool on_event(std::string_view, std::string_view d) override {
    bytes += d.size();
    return true;
  }
};

void BM_SseParseOnly(benchmark::State& st) {
  SseParser parser;
  CountSink sink;
  for (auto _ : st) parser.feed(kOpenAiEvent, sink);
  benchmark::DoNotOptimize(sink.bytes);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_SseParseOnly);

void BM_OpenAiClassifyOnly(benchmark::State& st) {
  auto adapter = std::move(make_adapter("openai-chat").value());
  const std::string_view data(kOpenAiEvent.data() + 6, kOpenAiEvent.size() - 8);
  StreamState state;
  ChunkInfo info;
  for (auto _ : st) {
    adapter->classify({}, data, state, info);
    benchmark::DoNotOptimize(info.kind);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_OpenAiClassifyOnly);

// The figure that matters: one content event fed and classified.
void BM_OpenAiSseEventFedAndClassified(benchmark::State& st) {
  auto adapter = std::move(make_adapter("openai-chat").value());
  SseParser parser;
  ClassifySink sink;
  sink.adapter = adapter.get();
  for (auto _ : st) parser.feed(kOpenAiEvent, sink);
  if (sink.tokens != int64_t(st.iterations())) st.SkipWithError("not every event was a token");
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(int64_t(st.iterations() * kOpenAiEvent.size()));
}
BENCHMARK(BM_OpenAiSseEventFedAndClassified);

// The same event arriving in two reads (the line is carried over in the parser's buffer).
void BM_OpenAiSseEventSplitFedAndClassified(benchmark::State& st) {
  auto adapter = std::move(make_adapter("openai-chat").value());
  SseParser parser;
  ClassifySink sink;
  sink.adapter = adapter.get();
  const size_t cut = kOpenAiEvent.size() / 2;
  for (auto _ : st) {
    parser.feed(kOpenAiEvent.data(), cut, sink);
    parser.feed(kOpenAiEvent.data() + cut, kOpenAiEvent.size() - cut, sink);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_OpenAiSseEventSplitFedAndClassified);

void BM_OllamaLineFedAndClassified(benchmark::State& st) {
  auto adapter = std::move(make_adapter("ollama-chat").value());
  NdjsonParser parser;
  ClassifySink sink;
  sink.adapter = adapter.get();
  for (auto _ : st) parser.feed(kOllamaLine, sink);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_OllamaLineFedAndClassified);

void BM_AnthropicEventFedAndClassified(benchmark::State& st) {
  auto adapter = std::move(make_adapter("anthropic-messages").value());
  SseParser parser;
  ClassifySink sink;
  sink.adapter = adapter.get();
  for (auto _ : st) parser.feed(kAnthropicEvent, sink);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_AnthropicEventFedAndClassified);

}  // namespace
}  // namespace llmload
