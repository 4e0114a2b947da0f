// The per-chunk cost of keeping a request's output text for the scenario's tokenizer
// (worker/output_text.h), beside the chunk's own parse and classify: one typical OpenAI chat
// content event fed to the SSE parser, classified by the openai-chat adapter, then handed to
// OutputText as worker/request.cpp does. Variants:
//   Baseline       parse + classify only (what a chunk cost before OutputText existed)
//   TokenizerOff   + OutputText::on_chunk with no tokenizer (every run without prompts.tokenizer)
//   TokenizerOn    + the text appended (decoded) per chunk, the request restarted every 256
//                  chunks (a 256-token answer)
//   CountAtEnd     the end-of-request encode of a 256-chunk answer (this file's byte-level
//                  tokenizer with a few merges; real vocabularies: tokenizer_bench)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "common/base64.h"
#include "common/tokenizer.h"
#include "worker/api_adapter.h"
#include "worker/output_text.h"
#include "worker/sse_parser.h"

using namespace llmload::worker;  // NOLINT: the benchmarks name the types they measure

namespace llmload {
namespace {

const std::string kOpenAiEvent =
    "data: "
    "{\"id\":\"chatcmpl-pNDWvNaOTZCkOvUmOSg5qSPgI3ZpLiTJ\",\"object\":\"chat.completion.chunk\","
    "\"created\":1795457646,\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"system_fingerprint\":"
    "\"b4748-c392e5094\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" lighthouse\"},"
    "\"logprobs\":null,\"finish_reason\":null}]}\n\n";

constexpr int kAnswerChunks = 256;

std::shared_ptr<const Tokenizer> small_tokenizer() {
  std::string s;
  for (int b = 0; b < 256; ++b)
    s += base64_encode(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\n";
  uint32_t rank = 256;
  for (const char* t : {" l", "ig", "ht", "ho", "us", "e", " li", "ght", "house", " lighthouse"})
    s += base64_encode(t) + " " + std::to_string(rank++) + "\n";
  return Tokenizer::from_tiktoken(s, "bench_cl100k_base.tiktoken").value();
}

struct Sink : SseParser::Sink {
  const ApiAdapter* adapter = nullptr;
  OutputText* text = nullptr;  // null: the baseline
  StreamState state;
  ChunkInfo info;
  int64_t tokens = 0;
  bool on_event(std::string_view e, std::string_view d) override {
    adapter->classify(e, d, state, info);
    if (text != nullptr) text->on_chunk(info, state);
    tokens += info.tokens;
    return true;
  }
};

void run(benchmark::State& st, const Tokenizer* tokenizer, bool with_text) {
  auto adapter = std::move(make_adapter("openai-chat").value());
  SseParser parser;
  OutputText text;
  Sink sink;
  sink.adapter = adapter.get();
  sink.text = with_text ? &text : nullptr;
  text.begin(tokenizer);
  int n = 0;
  for (auto _ : st) {
    parser.feed(kOpenAiEvent, sink);
    if (++n == kAnswerChunks) {
      n = 0;
      text.begin(tokenizer);  // the next request
    }
  }
  if (sink.tokens != int64_t(st.iterations())) st.SkipWithError("not every event was a token");
  st.SetItemsProcessed(st.iterations());
}

void BM_ChunkBaseline(benchmark::State& st) {
  run(st, nullptr, false);
}
BENCHMARK(BM_ChunkBaseline);

void BM_ChunkTokenizerOff(benchmark::State& st) {
  run(st, nullptr, true);
}
BENCHMARK(BM_ChunkTokenizerOff);

void BM_ChunkTokenizerOn(benchmark::State& st) {
  auto tok = small_tokenizer();
  run(st, tok.get(), true);
}
BENCHMARK(BM_ChunkTokenizerOn);

void BM_CountAtEnd(benchmark::State& st) {
  auto tok = small_tokenizer();
  OutputText text;
  text.begin(tok.get());
  ChunkInfo c;
  c.kind = ChunkKind::content;
  c.tokens = 1;
  c.text_json = "\" lighthouse\"";
  StreamState state;
  for (int i = 0; i < kAnswerChunks; ++i) text.on_chunk(c, state);
  for (auto _ : st) benchmark::DoNotOptimize(text.count(state));
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(int64_t(st.iterations() * text.text().size()));
}
BENCHMARK(BM_CountAtEnd);

// The same answer counted by a real vocabulary (LLMLOAD_TOKENIZER_DIR, as tokenizer_bench:
// llama3.json and cl100k_base.tiktoken); skipped without it.
void count_real(benchmark::State& st, const char* file) {
  const char* dir = std::getenv("LLMLOAD_TOKENIZER_DIR");
  if (dir == nullptr) return st.SkipWithError("LLMLOAD_TOKENIZER_DIR is not set");
  auto tok = Tokenizer::load(std::string(dir) + "/" + file);
  if (!tok) return st.SkipWithError(tok.error().c_str());
  OutputText text;
  text.begin(tok->get());
  ChunkInfo c;
  c.kind = ChunkKind::content;
  c.tokens = 1;
  c.text_json = "\" lighthouse\"";
  StreamState state;
  for (int i = 0; i < kAnswerChunks; ++i) text.on_chunk(c, state);
  for (auto _ : st) benchmark::DoNotOptimize(text.count(state));
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(int64_t(st.iterations() * text.text().size()));
}
void BM_CountAtEndLlama3(benchmark::State& st) {
  count_real(st, "llama3.json");
}
BENCHMARK(BM_CountAtEndLlama3);
void BM_CountAtEndCl100k(benchmark::State& st) {
  count_real(st, "cl100k_base.tiktoken");
}
BENCHMARK(BM_CountAtEndCl100k);

}  // namespace
}  // namespace llmload
