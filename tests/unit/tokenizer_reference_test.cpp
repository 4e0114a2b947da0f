// Our tokenizer gives the same token ids as npm's reference tokenizers on 10,000 varied strings
// (Unicode scripts, emoji, code, long whitespace runs, numbers, special tokens):
// @huggingface/tokenizers on tokenizer.json files (Llama 3's vocabulary with its own
// pre-tokenizer, and with GPT-2's ByteLevel regex and add_prefix_space) and js-tiktoken on
// cl100k_base and o200k_base .tiktoken files. tests/tools/tokenizer_reference.sh installs the
// npm packages into a scratch directory of the build tree (once, cached) and writes the files,
// the corpus and the reference ids there; when node, npm or the registry is missing these
// tests FAIL, saying which. The prompts the worker writes with prompts.tokenizer (synthetic
// prompts and trace rows) are counted by the same references: exactly the asked lengths.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/prompts.h"
#include "common/synthetic_text.h"
#include "common/tokenizer.h"
#include "common/trace.h"
#include "worker/run_plan.h"

namespace llmload {
namespace {

constexpr int kCorpusSize = 10000;

// The directory holding the reference files, prepared once per process (and cached on disk
// across runs); empty after a failure already reported.
const std::string& reference_dir() {
  static const std::string dir = [] {
    const std::string cmd = std::string(LLMLOAD_SOURCE_DIR) +
                            "/tests/tools/tokenizer_reference.sh tokenizer_reference " +
                            std::to_string(kCorpusSize);
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return std::string();
    char buf[4096];
    std::string out;
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (rc != 0) {
      ADD_FAILURE() << "tests/tools/tokenizer_reference.sh failed (exit " << rc
                    << "; its message is above): the cross-check needs node and npm "
                       "(apt-get install nodejs npm; scripts/setup.sh with "
                       "LLMLOAD_TEST_DEPS=1) and the npm registry once per build tree";
      return std::string();
    }
    return out;
  }();
  return dir;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string show(const std::vector<uint32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

void check_against_reference(const std::string& file, const std::string& name) {
  const std::string& dir = reference_dir();
  if (dir.empty()) return;
  auto tok = Tokenizer::load(dir + "/" + file);
  ASSERT_TRUE(tok) << tok.error();
  const std::vector<std::string> corpus = read_lines(dir + "/corpus.jsonl");
  const std::vector<std::string> ids = read_lines(dir + "/ids_" + name + ".jsonl");
  ASSERT_EQ(corpus.size(), size_t{kCorpusSize});
  ASSERT_EQ(ids.size(), corpus.size());
  size_t mismatches = 0, tokens = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string text = nlohmann::json::parse(corpus[i]).get<std::string>();
    const auto want = nlohmann::json::parse(ids[i]).get<std::vector<uint32_t>>();
    const std::vector<uint32_t> got = (*tok)->encode(text);
    tokens += want.size();
    EXPECT_EQ((*tok)->count(text), got.size());
    if (got != want && ++mismatches <= 5)
      ADD_FAILURE() << name << " string " << i << " " << corpus[i] << "\n  reference " << show(want)
                    << "\n  ours      " << show(got);
  }
  EXPECT_EQ(mismatches, 0u) << "of " << corpus.size() << " strings";
  // The corpus is not trivial: it holds hundreds of thousands of tokens.
  EXPECT_GT(tokens, 200000u);
}

TEST(TokenizerReference, Llama3TokenizerJsonMatchesHuggingFaceTokenizers) {
  check_against_reference("llama3.json", "llama3");
}

TEST(TokenizerReference, ByteLevelRegexTokenizerJsonMatchesHuggingFaceTokenizers) {
  check_against_reference("llama3_bytelevel.json", "llama3_bytelevel");
}

TEST(TokenizerReference, Cl100kMatchesJsTiktoken) {
  check_against_reference("cl100k_base.tiktoken", "cl100k_base");
}

TEST(TokenizerReference, O200kMatchesJsTiktoken) {
  check_against_reference("o200k_base.tiktoken", "o200k_base");
}

// Token counts of `texts` by the reference tokenizer of `file` (tests/tools/tokenizer_count.cjs).
std::vector<int64_t> reference_counts(const std::string& file,
                                      const std::vector<std::string>& texts) {
  const std::string& dir = reference_dir();
  const std::string in = dir + "/prompts_" + file + ".jsonl";
  {
    std::ofstream out(in);
    for (const std::string& t : texts) out << nlohmann::json(t).dump() << "\n";
  }
  const std::string cmd = "node " + std::string(LLMLOAD_SOURCE_DIR) +
                          "/tests/tools/tokenizer_count.cjs " + dir + "/../npm " + dir + "/" +
                          file + " < " + in;
  std::vector<int64_t> counted;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << cmd;
    return counted;
  }
  long long v = 0;
  while (fscanf(p, "%lld", &v) == 1) counted.push_back(v);
  EXPECT_EQ(pclose(p), 0) << cmd;
  return counted;
}

// The prompt text of requests the worker writes from `plan` (an openai-completions target:
// the body's "prompt" is the text), one per key.
std::vector<std::string> worker_texts(const worker::RunPlan& plan, uint64_t seed, int n,
                                      std::vector<int64_t>& asked, const Trace* trace = nullptr) {
  std::vector<std::string> out;
  worker::HttpRequest req;
  std::string scratch;
  for (int i = 0; i < n; ++i) {
    worker::BodyFill f;
    f.key = f.tag_key = request_key(seed, i % 3, i);
    if (trace != nullptr) {
      f.row = &trace->rows[size_t(i) % trace->rows.size()];
      f.trace = trace;
    }
    plan.groups[0].templates[0].write(req, scratch, plan.writer, f);
    const auto body = nlohmann::json::parse(req.bytes().substr(req.head_size()));
    out.push_back(body["prompt"].get<std::string>());
    asked.push_back(trace != nullptr ? std::max<int64_t>(1, f.row->input_tokens)
                                     : plan.writer.text_tokens(f));
  }
  return out;
}

// Done-when of the tokenizer issue: a scenario with prompts.tokenizer produces prompts whose
// lengths, counted by the reference tokenizer, equal the asked lengths. These are the prompts
// the worker writes per request (worker/body_template.h), with a shared prefix and a unique
// tag too, and trace rows (Mooncake's 512-token blocks, Azure's lengths) likewise.
void check_prompt_lengths(const std::string& file) {
  const std::string& dir = reference_dir();
  if (dir.empty()) return;
  auto tok = Tokenizer::load(dir + "/" + file);
  ASSERT_TRUE(tok) << tok.error();
  std::vector<int64_t> asked;
  std::vector<std::string> texts;
  const std::string target =
      "target: {url: \"http://127.0.0.1:9\", model: m, api: openai-completions}\n";
  for (const char* form : {"input_tokens: %d", "input_tokens: %d, unique_prefix: true",
                           "input_tokens: %d, shared_prefix_tokens: 40, unique_prefix: true",
                           "input_tokens: {dist: uniform, min: 1, max: %d}"}) {
    for (int n : {1, 2, 7, 64, 500, 3000}) {
      char fields[128];
      std::snprintf(fields, sizeof fields, form, n);
      const std::string yaml = target + "load: {requests: 1}\nprompts: {" + std::string(fields) +
                               ", tokenizer: " + dir + "/" + file + "}\n";
      auto s = parse_scenario(yaml, "s.yaml", "/tmp");
      ASSERT_TRUE(s) << s.error();
      ASSERT_TRUE(prompts_written_on_worker(*s));
      auto ps = sample_prompts(*s, prompt_count_for_run(*s), s->seed);
      ASSERT_TRUE(ps) << ps.error();
      auto plan = worker::build_run_plan(*s, *ps);
      ASSERT_TRUE(plan) << plan.error();
      const size_t before = asked.size();
      for (std::string& t : worker_texts(**plan, uint64_t(n), 8, asked)) {
        // A prompt keeps its tag and the shared prefix whole and one own word at least: asks
        // shorter than those are met by the shortest prompt (docs/scenarios.md); all others
        // exactly. Our own count agrees with the asked length (the reference's is below).
        texts.push_back(std::move(t));
        EXPECT_EQ(int64_t((*tok)->count(texts.back())), asked[texts.size() - 1]) << fields;
      }
      if (std::string(form).find("dist") == std::string::npos) {
        const bool fixed_parts = std::string(form).find("unique") != std::string::npos;
        for (size_t i = before; i < asked.size(); ++i)
          if (!fixed_parts || n >= 64) EXPECT_EQ(asked[i], n) << fields;
      }
    }
  }
  // Trace rows: Mooncake (hash-id blocks of 512 tokens, shared by rows sharing ids) and Azure.
  for (const char* trace_file : {"trace-mooncake.jsonl", "trace-azure.csv"}) {
    const std::string path = std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/data/" + trace_file;
    const std::string yaml =
        target + "load: {trace: {file: " + path + ", format: " +
        (std::string(trace_file).find("azure") != std::string::npos ? "azure" : "mooncake") +
        "}}\nprompts: {tokenizer: " + dir + "/" + file + "}\n";
    auto s = parse_scenario(yaml, "s.yaml", "/tmp");
    ASSERT_TRUE(s) << s.error();
    auto ps = sample_prompts(*s, prompt_count_for_run(*s), s->seed);
    ASSERT_TRUE(ps) << ps.error();
    auto plan = worker::build_run_plan(*s, *ps);
    ASSERT_TRUE(plan) << plan.error();
    const Trace& trace = *(*plan)->trace;
    for (std::string& t : worker_texts(**plan, 7, int(trace.rows.size()), asked, &trace)) {
      texts.push_back(std::move(t));
      EXPECT_EQ(int64_t((*tok)->count(texts.back())), asked[texts.size() - 1]) << trace_file;
    }
  }
  const std::vector<int64_t> counted = reference_counts(file, texts);
  ASSERT_EQ(counted.size(), asked.size());
  for (size_t i = 0; i < asked.size(); ++i)
    EXPECT_EQ(counted[i], asked[i]) << file << ": " << texts[i].substr(0, 200);
}

TEST(TokenizerReference, SyntheticPromptsHaveTheAskedLengthToTheReferenceLlama3) {
  check_prompt_lengths("llama3.json");
}

TEST(TokenizerReference, SyntheticPromptsHaveTheAskedLengthToTheReferenceCl100k) {
  check_prompt_lengths("cl100k_base.tiktoken");
}

TEST(TokenizerReference, SyntheticPromptsHaveTheAskedLengthToTheReferenceO200k) {
  check_prompt_lengths("o200k_base.tiktoken");
}

}  // namespace
}  // namespace llmload
