// prompts.tokenizer / --tokenizer: synthetic prompts sized in a tokenizer's tokens, the
// estimate counted by it, and a bad file reported as a scenario error naming the field.
// (Against the reference tokenizers on real vocabularies: tokenizer_reference_test.cpp.)
#include <gtest/gtest.h>

#include <fstream>

#include "common/base64.h"
#include "common/overrides.h"
#include "common/prompts.h"
#include "common/tokenizer.h"
#include "tests/unit/word_tokenizer_test_util.h"

namespace llmload {
namespace {

// A tokenizer.json to which 56 of the synthetic vocabulary's words and 24 words of its own are
// one token each, everything else a token a byte (tests/unit/word_tokenizer_test_util.h).
std::string write_tokenizer() {
  return llmload_test::write_word_tokenizer(testing::TempDir() + "prompts_tokens_words.json",
                                            llmload_test::word_tokenizer_words());
}

Expected<Scenario> scenario(const std::string& prompts) {
  return parse_scenario("target: {model: m}\nload: {requests: 1}\nprompts: " + prompts + "\n",
                        "s.yaml", testing::TempDir());
}

TEST(PromptsTokens, SyntheticPromptsHaveExactlyTheAskedTokens) {
  const std::string path = write_tokenizer();
  auto tok = shared_tokenizer(path);
  ASSERT_TRUE(tok) << tok.error();
  for (const char* extra : {"", ", unique_prefix: true", ", shared_prefix_tokens: 30"}) {
    for (int n : {40, 41, 97, 1000}) {
      auto s =
          scenario("{input_tokens: " + std::to_string(n) + extra + ", tokenizer: " + path + "}");
      ASSERT_TRUE(s) << s.error();
      auto ps = sample_prompts(*s, 20, 3);
      ASSERT_TRUE(ps) << ps.error();
      for (const ResolvedPrompt& p : *ps) {
        EXPECT_EQ(int64_t((*tok)->count(p.text)), n) << extra << " " << p.text;
        EXPECT_EQ(p.input_tokens_estimate, n);
        // The tag is a token a byte here, not two words: its tokens are counted, not guessed.
        if (std::string(extra).find("unique") != std::string::npos)
          EXPECT_LT(estimate_tokens(p.text), n - 10);
      }
    }
  }
}

TEST(PromptsTokens, TheSharedPrefixIsExactAndTheSameOnEveryPrompt) {
  const std::string path = write_tokenizer();
  auto s = scenario("{input_tokens: 200, shared_prefix_tokens: 50, tokenizer: " + path + "}");
  ASSERT_TRUE(s) << s.error();
  auto ps = sample_prompts(*s, 10, 9);
  ASSERT_TRUE(ps);
  auto tok = shared_tokenizer(path).value();
  // The prefix is the first words making 50 tokens: the same bytes start every prompt.
  const std::string& first = (*ps)[0].text;
  std::string prefix;
  for (size_t cut = first.find(' '); cut != std::string::npos; cut = first.find(' ', cut + 1))
    if (int64_t(tok->count(first.substr(0, cut))) == 50) prefix = first.substr(0, cut);
  ASSERT_FALSE(prefix.empty());
  for (const ResolvedPrompt& p : *ps) EXPECT_EQ(p.text.rfind(prefix, 0), 0u);
}

TEST(PromptsTokens, AVocabularyWithoutEnoughOneTokenWordsIsAnErrorNamingTheFile) {
  // 40 one-token words: synthetic prompts exact in its tokens cannot be written from it.
  const std::string path =
      llmload_test::write_word_tokenizer(testing::TempDir() + "prompts_tokens_few_words.json",
                                         llmload_test::word_tokenizer_words(40, 16));
  auto s = scenario("{input_tokens: 100, tokenizer: " + path + "}");
  ASSERT_TRUE(s) << s.error();
  auto ps = sample_prompts(*s, 1, 1);
  ASSERT_FALSE(ps);
  EXPECT_NE(ps.error().find("prompts.tokenizer: tokenizer '" + path +
                            "': only 40 lowercase ASCII words are one token each"),
            std::string::npos)
      << ps.error();
}

TEST(PromptsTokens, DatasetEstimatesCountTokens) {
  const std::string path = write_tokenizer();
  auto s =
      scenario("{source: inline, items: [\"the weather in the west\"], tokenizer: " + path + "}");
  ASSERT_TRUE(s) << s.error();
  auto ps = sample_prompts(*s, 1, 1);
  ASSERT_TRUE(ps);
  EXPECT_EQ((*ps)[0].input_tokens_estimate,
            int64_t(shared_tokenizer(path).value()->count("the weather in the west")));
  EXPECT_NE((*ps)[0].input_tokens_estimate, 5);  // not the word count
}

TEST(PromptsTokens, ShareGptReplyLengthsAreTokensWithATokenizer) {
  const std::string path = write_tokenizer();
  const std::string file = testing::TempDir() + "prompts_tokens_sharegpt.json";
  std::ofstream(file) << R"([{"conversations": [{"from": "human", "value": "hi"},
                                                  {"from": "gpt", "value": "the weather in the west"}]}])";
  PromptSource src;
  src.kind = PromptSourceKind::kShareGpt;
  src.file = file;
  src.output_from_reply = true;
  auto words = load_prompt_entries(src);
  ASSERT_TRUE(words) << words.error();
  EXPECT_EQ((*words)[0].max_tokens, 5);
  src.tokenizer = path;
  auto tokens = load_prompt_entries(src);
  ASSERT_TRUE(tokens) << tokens.error();
  EXPECT_EQ((*tokens)[0].max_tokens,
            int64_t(shared_tokenizer(path).value()->count("the weather in the west")));
  EXPECT_NE((*tokens)[0].max_tokens, 5);
}

TEST(PromptsTokens, ABadTokenizerFileIsAScenarioErrorNamingTheField) {
  const std::string bad = testing::TempDir() + "bad_tokenizer.json";
  std::ofstream(bad) << R"({"model": {"type": "Unigram"}})";
  auto s = scenario("{input_tokens: 10, tokenizer: " + bad + "}");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("prompts.tokenizer: tokenizer '" + bad + "': model.type: 'Unigram'"),
            std::string::npos)
      << s.error();
  auto missing = scenario("{input_tokens: 10, tokenizer: no-such-file.json}");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("prompts.tokenizer: tokenizer: cannot read"), std::string::npos)
      << missing.error();
}

TEST(PromptsTokens, TheTokenizerFlagSetsTheFieldAndIsRecorded) {
  const std::string path = write_tokenizer();
  auto s = scenario("{input_tokens: 64}");
  ASSERT_TRUE(s);
  Overrides o;
  o.tokenizer = path;
  ASSERT_TRUE(apply_overrides(*s, o).empty());
  EXPECT_EQ(s->prompts.tokenizer, path);
  ASSERT_FALSE(s->overrides.empty());
  EXPECT_EQ(s->overrides.back(), "--tokenizer " + path);
  EXPECT_EQ(scenario_to_json(*s, JsonMode::kRedacted)["prompts"]["tokenizer"], path);
  auto ps = sample_prompts(*s, 3, 1);
  ASSERT_TRUE(ps);
  for (const ResolvedPrompt& p : *ps) EXPECT_EQ(p.input_tokens_estimate, 64);
  o.tokenizer = testing::TempDir() + "absent.tiktoken";
  const auto problems = apply_overrides(*s, o);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("--tokenizer: tokenizer: cannot read"), std::string::npos);
}

}  // namespace
}  // namespace llmload
