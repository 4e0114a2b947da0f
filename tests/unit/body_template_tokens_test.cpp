// Bodies written per request with prompts.tokenizer (worker/body_template.h, common/token_words.h):
// every synthetic prompt the worker writes encodes to exactly the asked number of tokens for
// lengths 1..3000 and several seeds (with a shared prefix and a unique tag too), prompts stay
// distinct per request, trace rows are exact with their 512-token blocks shared, and a tokenizer
// that cannot give one-token words fails the plan naming its file. The tokenizer is a small
// tokenizer.json made here (tests/unit/word_tokenizer_test_util.h); the cross-check against the
// reference tokenizers on real vocabularies is tokenizer_reference_test.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/prompts.h"
#include "common/scenario.h"
#include "common/synthetic_text.h"
#include "common/tokenizer.h"
#include "tests/unit/word_tokenizer_test_util.h"
#include "worker/body_template.h"
#include "worker/run_plan.h"

namespace llmload {
namespace {

using worker::BodyFill;
using worker::HttpRequest;

const std::string& tokenizer_path() {
  static const std::string path = llmload_test::write_word_tokenizer(
      ::testing::TempDir() + "body_template_tokens.json", llmload_test::word_tokenizer_words());
  return path;
}

std::shared_ptr<const Tokenizer> tokenizer() {
  return shared_tokenizer(tokenizer_path()).value();
}

Scenario parse_ok(const std::string& text) {
  auto s = parse_scenario(text, "s.yaml", ::testing::TempDir());
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
  return s.ok() ? s.value() : Scenario{};
}

// A synthetic scenario (an openai-completions target: the body's "prompt" is the text).
Scenario synthetic(const std::string& prompts, uint64_t seed = 1) {
  return parse_ok(
      "targets: [{url: \"http://127.0.0.1:9\", model: m, api: openai-completions}]\n"
      "seed: " +
      std::to_string(seed) + "\nload: {concurrency: 1, requests: 10}\nprompts: {" + prompts +
      ", tokenizer: " + tokenizer_path() + "}\n");
}

Expected<std::shared_ptr<const worker::RunPlan>> plan_of(const Scenario& s) {
  auto prompts = sample_prompts(s, prompt_count_for_run(s), s.seed);
  if (!prompts) return Error{prompts.error()};
  return worker::build_run_plan(s, *prompts);
}

std::string prompt_of(const worker::RunPlan& p, const BodyFill& f) {
  HttpRequest out;
  std::string scratch;
  p.groups[0].templates[0].write(out, scratch, p.writer, f);
  return nlohmann::json::parse(out.bytes().substr(out.head_size()))["prompt"];
}

// The unique_prefix tag's tokens as it is written (after a space, or starting the text).
int64_t tag_tokens(const Tokenizer& tok, uint64_t key, bool first) {
  char tag[kUniqueTagMax];
  const std::string t(tag, write_unique_tag(tag, key));
  return int64_t(tok.count(first ? t : " " + t));
}

TEST(BodyTemplateTokens, EveryPromptEncodesToTheAskedLengthForLengthsUpTo3000AndSeveralSeeds) {
  const auto tok = tokenizer();
  std::vector<int64_t> lengths;
  for (int64_t n = 1; n <= 200; ++n) lengths.push_back(n);
  for (int64_t n = 211; n <= 3000; n += 13) lengths.push_back(n);
  lengths.push_back(3000);
  struct Form {
    const char* fields;
    int64_t shared;
    bool unique;
  };
  for (const Form form :
       {Form{"input_tokens: 64", 0, false}, Form{"input_tokens: 64, unique_prefix: true", 0, true},
        Form{"input_tokens: 64, shared_prefix_tokens: 30, unique_prefix: true", 30, true},
        Form{"input_tokens: 64, shared_prefix_tokens: 30", 30, false}}) {
    for (uint64_t seed : {1u, 2u, 977u}) {
      const Scenario s = synthetic(form.fields, seed);
      auto plan = plan_of(s);
      ASSERT_TRUE(plan) << plan.error();
      ASSERT_TRUE((*plan)->synthetic);
      ASSERT_EQ((*plan)->tokenizer, tok);
      worker::BodyWriter w = (*plan)->writer;
      for (int64_t n : lengths) {
        w.input_tokens = Distribution::fixed(double(n));
        BodyFill f;
        f.key = f.tag_key = request_key(seed, n % 5, n);
        std::string text;
        w.append_text(text, f);
        // The fixed parts (shared prefix, tag, one own word) are the least a prompt has.
        const int64_t least =
            form.shared + (form.unique ? tag_tokens(*tok, f.tag_key, form.shared == 0) : 0) + 1;
        const int64_t want = std::max(n, least);
        ASSERT_EQ(int64_t(tok->count(text)), want) << form.fields << " n=" << n << ": " << text;
        ASSERT_EQ(w.text_tokens(f), want);
      }
    }
  }
}

TEST(BodyTemplateTokens, RequestsGetDistinctPromptsAndShareOnlyThePrefix) {
  const auto tok = tokenizer();
  const Scenario s = synthetic(
      "input_tokens: {dist: uniform, min: 40, max: 400}, shared_prefix_tokens: 25, "
      "unique_prefix: true");
  auto plan = plan_of(s);
  ASSERT_TRUE(plan) << plan.error();
  std::set<std::string> prompts;
  std::set<std::string> prefixes;
  std::set<int64_t> lengths;
  for (int64_t seq = 0; seq < 2000; ++seq) {
    BodyFill f;
    f.key = f.tag_key = request_key(s.seed, seq % 4, seq);
    const std::string p = prompt_of(**plan, f);
    const std::vector<uint32_t> ids = tok->encode(p);
    ASSERT_EQ(int64_t(ids.size()), (*plan)->writer.text_tokens(f)) << p;
    lengths.insert(int64_t(ids.size()));
    prefixes.insert(tok->decode(std::vector<uint32_t>(ids.begin(), ids.begin() + 25)));
    prompts.insert(p);
  }
  EXPECT_EQ(prompts.size(), 2000u);  // written per request: never a capped list
  EXPECT_EQ(prefixes.size(), 1u);    // the shared prefix: 25 tokens the same on every prompt
  EXPECT_GT(lengths.size(), 200u);
  EXPECT_EQ((*plan)->items.size(), 1u);  // one template, nothing shipped per prompt
}

TEST(BodyTemplateTokens, TraceRowsAreExactAndShareTheirBlocksInTokens) {
  const auto tok = tokenizer();
  const std::string file = ::testing::TempDir() + "body_template_tokens_trace.jsonl";
  std::ofstream(file) << "{\"timestamp\": 0, \"input_length\": 1100, \"output_length\": 9, "
                         "\"hash_ids\": [7, 8, 9]}\n"
                      << "{\"timestamp\": 5, \"input_length\": 1300, \"output_length\": 4, "
                         "\"hash_ids\": [7, 8, 10]}\n"
                      << "{\"timestamp\": 6, \"input_length\": 300, \"output_length\": 4}\n";
  const Scenario s = parse_ok(
      "targets: [{url: \"http://127.0.0.1:9\", model: m, api: openai-completions}]\n"
      "load: {trace: {file: " +
      file + ", format: mooncake}}\nprompts: {tokenizer: " + tokenizer_path() + "}\n");
  auto plan = plan_of(s);
  ASSERT_TRUE(plan) << plan.error();
  ASSERT_TRUE((*plan)->trace);
  std::vector<std::vector<uint32_t>> ids;
  for (size_t i = 0; i < 3; ++i) {
    BodyFill f;
    f.key = f.tag_key = request_key(1, 0, int64_t(i));
    f.row = &(*plan)->trace->rows[i];
    f.trace = (*plan)->trace.get();
    ids.push_back(tok->encode(prompt_of(**plan, f)));
    EXPECT_EQ(int64_t(ids.back().size()), f.row->input_tokens);
  }
  // Rows 0 and 1 share blocks 7 and 8: their first 1024 tokens, and no more.
  size_t common = 0;
  while (common < ids[0].size() && ids[0][common] == ids[1][common]) ++common;
  EXPECT_GE(common, 1024u);
  EXPECT_LT(common, 1024u + 11);  // the third blocks differ within the words spelling the key
  EXPECT_NE(std::vector<uint32_t>(ids[0].begin(), ids[0].begin() + 11),
            std::vector<uint32_t>(ids[2].begin(), ids[2].begin() + 11));
  std::remove(file.c_str());
}

TEST(BodyTemplateTokens, TooFewOneTokenWordsFailsThePlanNamingTheTokenizer) {
  // 40 one-token words: the worker cannot write exact prompts from them, and says so (the
  // coordinator's sample_prompts says the same, tested in prompts_tokens_test.cpp).
  const std::string path =
      llmload_test::write_word_tokenizer(::testing::TempDir() + "body_template_few_words.json",
                                         llmload_test::word_tokenizer_words(40, 16));
  Scenario s = parse_ok(
      "targets: [{url: \"http://127.0.0.1:9\", model: m}]\nload: {requests: 1}\n"
      "prompts: {input_tokens: 100}\n");
  auto prompts = sample_prompts(s, 1, 1);
  ASSERT_TRUE(prompts);
  s.prompts.tokenizer = path;
  auto plan = worker::build_run_plan(s, *prompts);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("prompts.tokenizer: tokenizer '" + path +
                              "': only 40 lowercase ASCII words are one token each"),
            std::string::npos)
      << plan.error();
}

TEST(BodyTemplateTokens, ATokenizerThatMergesAcrossWordsFailsThePlanNamingIt) {
  // Pieces of two words (a Split before the byte-level step): every word is one token alone,
  // but two side by side are one unknown piece, so a text's tokens are not its words.
  const std::string path = ::testing::TempDir() + "body_template_pairs.json";
  llmload_test::write_word_tokenizer(path, llmload_test::word_tokenizer_words());
  nlohmann::json j = nlohmann::json::parse(std::ifstream(path));
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern", {{"Regex", " ?[a-z]+(?: [a-z]+)?|[^a-z]+"}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  std::ofstream(path) << j.dump();
  Scenario s = parse_ok(
      "targets: [{url: \"http://127.0.0.1:9\", model: m}]\nload: {requests: 1}\n"
      "prompts: {input_tokens: 100}\n");
  auto prompts = sample_prompts(s, 1, 1);
  ASSERT_TRUE(prompts);
  s.prompts.tokenizer = path;
  auto plan = worker::build_run_plan(s, *prompts);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("prompts.tokenizer: tokenizer '" + path + "': the words '"),
            std::string::npos)
      << plan.error();
  EXPECT_NE(plan.error().find("are not two tokens side by side"), std::string::npos)
      << plan.error();
}

}  // namespace
}  // namespace llmload
