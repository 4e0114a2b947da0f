// Encoding speed of the native tokenizer (common/tokenizer.h), in bytes of text per second on
// one core. The vocabularies are not in the repository (Llama 3's licence forbids it): point
// LLMLOAD_TOKENIZER_DIR at the directory the tokenizer cross-check prepares
// (build/tests/tokenizer_reference/out after `ctest -R TokenizerReference`), which holds
// llama3.json, cl100k_base.tiktoken, o200k_base.tiktoken and corpus.jsonl (10,000 varied
// strings: scripts, emoji, code, whitespace runs, numbers).
// Texts: "corpus" = those strings joined (1.9 MB); "prose" = synthetic English words (1 MB).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/distribution.h"
#include "common/prompts.h"
#include "common/tokenizer.h"

namespace llmload {
namespace {

std::string dir() {
  const char* d = std::getenv("LLMLOAD_TOKENIZER_DIR");
  return d ? d : "";
}

const std::string& corpus_text() {
  static const std::string text = [] {
    std::ifstream in(dir() + "/corpus.jsonl");
    std::string line, all;
    while (std::getline(in, line)) all += nlohmann::json::parse(line).get<std::string>() + "\n";
    return all;
  }();
  return text;
}

const std::string& prose_text() {
  static const std::string text = [] {
    Rng rng(7);
    return synthetic_words(rng, 150000);
  }();
  return text;
}

void encode(benchmark::State& state, const char* file, bool prose) {
  if (dir().empty()) {
    state.SkipWithError("set LLMLOAD_TOKENIZER_DIR (see the comment at the top)");
    return;
  }
  auto tok = Tokenizer::load(dir() + "/" + file);
  if (!tok) {
    state.SkipWithError(tok.error().c_str());
    return;
  }
  const std::string& text = prose ? prose_text() : corpus_text();
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = (*tok)->count(text);
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["tokens"] = double(tokens);
  state.counters["bytes_per_token"] = double(text.size()) / double(tokens);
}

void BM_Llama3Corpus(benchmark::State& s) {
  encode(s, "llama3.json", false);
}
void BM_Llama3Prose(benchmark::State& s) {
  encode(s, "llama3.json", true);
}
void BM_Cl100kCorpus(benchmark::State& s) {
  encode(s, "cl100k_base.tiktoken", false);
}
void BM_Cl100kProse(benchmark::State& s) {
  encode(s, "cl100k_base.tiktoken", true);
}
void BM_O200kCorpus(benchmark::State& s) {
  encode(s, "o200k_base.tiktoken", false);
}
void BM_O200kProse(benchmark::State& s) {
  encode(s, "o200k_base.tiktoken", true);
}
void BM_ByteLevelRegexCorpus(benchmark::State& s) {
  encode(s, "llama3_bytelevel.json", false);
}
BENCHMARK(BM_Llama3Corpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Llama3Prose)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Cl100kCorpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Cl100kProse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_O200kCorpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_O200kProse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ByteLevelRegexCorpus)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace llmload
