// `llmload validate --tokenizer FILE` as users run it: the prompt statistics are in that
// tokenizer's tokens (a fixed input_tokens gives exactly that length, the unique tag counted),
// a bad file exits 2 with an error naming the flag and the field, a vocabulary without enough
// one-token words fails naming the file. (Lengths checked against the reference tokenizers:
// tests/unit/tokenizer_reference_test.cpp.)
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "tests/unit/word_tokenizer_test_util.h"

namespace {

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr together
};

Result run(const std::string& args) {
  const std::string cmd = std::string("env -i ") + LLMLOAD_BINARY + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A tokenizer.json to which 80 words are one token each and every other byte a token
// (tests/unit/word_tokenizer_test_util.h): prompts of its one-token words, the unique tag in
// bytes, so tokens differ from words.
std::string write_tokenizer(size_t drop = 8, size_t extra = 24) {
  return llmload_test::write_word_tokenizer(
      testing::TempDir() + "cli_words_" + std::to_string(drop) + ".json",
      llmload_test::word_tokenizer_words(drop, extra));
}

std::string write_scenario() {
  const std::string path = testing::TempDir() + "cli_tokenizer.yaml";
  std::ofstream(path) << "target: {url: mock, model: m}\nload: {concurrency: 1, requests: 50}\n"
                         "prompts: {source: synthetic, input_tokens: 300, unique_prefix: true}\n";
  return path;
}

TEST(TokenizerCli, ValidateCountsPromptsInTheTokenizersTokens) {
  const Result words = run("validate " + write_scenario());
  ASSERT_EQ(words.code, 0) << words.out;
  EXPECT_NE(words.out.find("(synthetic sample, ≈ words): count 50, mean 300.0"), std::string::npos)
      << words.out;
  const Result tokens = run("validate " + write_scenario() + " --tokenizer " + write_tokenizer());
  ASSERT_EQ(tokens.code, 0) << tokens.out;
  EXPECT_NE(tokens.out.find("(synthetic sample, tokenizer tokens): count 50, mean 300.0, p50 300, "
                            "p90 300, max 300"),
            std::string::npos)
      << tokens.out;
}

TEST(TokenizerCli, ATokenizerWithoutOneTokenWordsFailsValidateNamingTheFile) {
  const std::string path = write_tokenizer(40, 16);
  const Result r = run("validate " + write_scenario() + " --tokenizer " + path);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("prompts.tokenizer: tokenizer '" + path +
                       "': only 40 lowercase ASCII words are one token each"),
            std::string::npos)
      << r.out;
}

TEST(TokenizerCli, ABadTokenizerFileExitsTwoNamingTheField) {
  const std::string bad = testing::TempDir() + "cli_bad_tokenizer.json";
  std::ofstream(bad) << R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})";
  const Result r = run("validate " + write_scenario() + " --tokenizer " + bad);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--tokenizer: tokenizer '" + bad +
                       "': model.vocab: 'a': id is not a whole "
                       "number"),
            std::string::npos)
      << r.out;
}

}  // namespace
