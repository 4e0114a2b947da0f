// prompts.tokenizer end to end against `llmload mock --truth --truth-text` (the mock logs every
// request's body): a run with a tokenizer sends synthetic prompts written on the worker whose
// token counts (that tokenizer's) equal the asked lengths, with a system prompt, a shared prefix
// and a unique tag, every prompt distinct; remote `llmload worker` processes read the tokenizer
// at the scenario's path and write exact prompts, and one that cannot read it fails its
// pre-flight naming the file; a run whose tokenizer cannot give one-token words fails before any
// request, naming the file. The tokenizer is a small tokenizer.json made here.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/tokenizer.h"
#include "tests/integration/process_util.h"
#include "tests/unit/word_tokenizer_test_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;
using llmload_test::wait_exit;

// The chat messages of every generation request the mock saw (its truth log, after SIGINT).
std::vector<nlohmann::json> sent_messages(Proc& mock, const fs::path& truth) {
  ::kill(mock.pid, SIGINT);
  EXPECT_EQ(wait_exit(mock, 30), 0);
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(truth.string()));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j["api"].get<std::string>().empty()) continue;  // the pre-flight
    out.push_back(nlohmann::json::parse(j["body"].get<std::string>())["messages"]);
  }
  return out;
}

struct Case {
  std::string fields;  // prompts: fields besides the tokenizer
  int64_t asked;       // every prompt's asked length (input_tokens)
  int requests;
};

TEST(PromptTokensRun, PromptsWrittenOnTheWorkerHaveTheAskedTokens) {
  const fs::path d = fresh_dir("llmload_prompt_tokens_run");
  const std::string tok_path = llmload_test::write_word_tokenizer(
      (d / "tokenizer.json").string(), llmload_test::word_tokenizer_words());
  auto tok = llmload::Tokenizer::load(tok_path);
  ASSERT_TRUE(tok) << tok.error();
  for (const Case& c : {Case{"input_tokens: 1000, shared_prefix_tokens: 50, unique_prefix: true, "
                             "system: be brief",
                             1000, 300},
                        // More requests than a shipped list could hold (kRunPromptsMax 2,048).
                        Case{"input_tokens: 7", 7, 3000}, Case{"input_tokens: 2900", 2900, 100}}) {
    const fs::path truth = d / "truth.jsonl";
    fs::remove(truth);
    Proc mock;
    const std::string url =
        start_mock(mock, (d / "mock.log").string(),
                   {"--truth", truth.string(), "--truth-text", "--ttft", "0s", "--itl", "0s"});
    ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
    std::ofstream(d / "s.yaml") << "target: {url: \"" << url
                                << "\", api: openai-chat, model: m}\n"
                                   "load: {concurrency: 8, requests: "
                                << c.requests << "}\nprompts: {source: synthetic, " << c.fields
                                << ", tokenizer: " << tok_path << "}\noutput: {max_tokens: 1}\n";
    const int code = run_llmload("run " + (d / "s.yaml").string() + " --out " +
                                     (d / "out").string() + " --no-report --threads 2",
                                 (d / "log").string());
    const auto sent = sent_messages(mock, truth);
    ASSERT_EQ(code, 0) << slurp((d / "log").string());
    ASSERT_EQ(sent.size(), size_t(c.requests)) << c.fields;
    std::set<std::string> prompts;
    for (const nlohmann::json& messages : sent) {
      const std::string user = messages.back()["content"];
      ASSERT_EQ(int64_t((*tok)->count(user)), c.asked) << c.fields << ": " << user.substr(0, 200);
      if (c.fields.find("system") != std::string::npos) {
        ASSERT_EQ(messages.size(), 2u);
        EXPECT_EQ(messages[0]["content"], "be brief");
      }
      prompts.insert(user);
    }
    EXPECT_EQ(prompts.size(), size_t(c.requests))
        << c.fields;  // written per request, never a capped list
    fs::remove_all(d / "out");
  }
}

TEST(PromptTokensRun, RemoteWorkersReadTheTokenizerAtTheSamePathAndWriteExactPrompts) {
  // A coordinator and two `llmload worker` processes: RUN carries the scenario (the tokenizer's
  // path) and one placeholder prompt; each worker loads the file and writes every prompt.
  const fs::path d = fresh_dir("llmload_prompt_tokens_dist");
  const std::string tok_path = llmload_test::write_word_tokenizer(
      (d / "tokenizer.json").string(), llmload_test::word_tokenizer_words());
  auto tok = llmload::Tokenizer::load(tok_path);
  ASSERT_TRUE(tok) << tok.error();
  const fs::path truth = d / "truth.jsonl";
  Proc mock, coord, w1, w2;
  const std::string url =
      start_mock(mock, (d / "mock.log").string(),
                 {"--truth", truth.string(), "--truth-text", "--ttft", "0s", "--itl", "0s"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  std::ofstream(d / "s.yaml") << "target: {url: \"" << url
                              << "\", api: openai-chat, model: m}\n"
                                 "load: {concurrency: 4, requests: 400}\n"
                                 "prompts: {source: synthetic, input_tokens: 700, "
                                 "unique_prefix: true, tokenizer: "
                              << tok_path << "}\noutput: {max_tokens: 1}\n";
  llmload_test::spawn(
      coord,
      {"llmload", "coordinator", (d / "s.yaml").string(), "--bind", "tcp://127.0.0.1:*",
       "--workers", "2", "--out", (d / "out").string(), "--quiet"},
      (d / "coord.log").string());
  const std::string ep =
      llmload_test::wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  llmload_test::spawn(
      w1,
      {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1", "--exit-after-run"},
      (d / "w1.log").string());
  llmload_test::spawn(
      w2,
      {"llmload", "worker", "--connect", ep, "--threads", "2", "--id", "w2", "--exit-after-run"},
      (d / "w2.log").string());
  const int code = wait_exit(coord, 60);
  const auto sent = sent_messages(mock, truth);
  ASSERT_EQ(code, 0) << slurp(coord.out) << slurp((d / "w1.log").string());
  ASSERT_EQ(sent.size(), 400u);
  std::set<std::string> prompts;
  for (const nlohmann::json& messages : sent) {
    const std::string user = messages.back()["content"];
    ASSERT_EQ(int64_t((*tok)->count(user)), 700) << user.substr(0, 200);
    prompts.insert(user);
  }
  EXPECT_EQ(prompts.size(), 400u);
  EXPECT_EQ(wait_exit(w1, 30), 0) << slurp((d / "w1.log").string());
  EXPECT_EQ(wait_exit(w2, 30), 0) << slurp((d / "w2.log").string());
}

TEST(PromptTokensRun, AWorkerThatCannotReadTheTokenizerFailsItsPreflightNamingTheFile) {
  // The coordinator read the file; it is gone by the time the worker gets RUN (as on a machine
  // without it at that path): the worker refuses the run, naming the file, and nothing is sent.
  const fs::path d = fresh_dir("llmload_prompt_tokens_missing");
  const std::string tok_path = llmload_test::write_word_tokenizer(
      (d / "tokenizer.json").string(), llmload_test::word_tokenizer_words());
  Proc mock, coord, w1;
  const std::string url = start_mock(mock, (d / "mock.log").string());
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  std::ofstream(d / "s.yaml") << "target: {url: \"" << url
                              << "\", api: openai-chat, model: m}\n"
                                 "load: {concurrency: 1, requests: 5}\n"
                                 "prompts: {input_tokens: 50, tokenizer: "
                              << tok_path << "}\n";
  llmload_test::spawn(
      coord,
      {"llmload", "coordinator", (d / "s.yaml").string(), "--bind", "tcp://127.0.0.1:*",
       "--workers", "1", "--out", (d / "out").string(), "--quiet"},
      (d / "coord.log").string());
  const std::string ep =
      llmload_test::wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  fs::remove(tok_path);
  llmload_test::spawn(
      w1,
      {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1", "--exit-after-run"},
      (d / "w1.log").string());
  const int code = wait_exit(coord, 60);
  EXPECT_NE(code, 0);
  const std::string logs = slurp(coord.out) + slurp((d / "w1.log").string());
  // The pre-flight's shared-file check names the field, the path and what is wrong.
  EXPECT_NE(logs.find("pre-flight failed on worker w1: prompts.tokenizer " + tok_path +
                      ": cannot open"),
            std::string::npos)
      << logs;
}

TEST(PromptTokensRun, ATokenizerWithoutOneTokenWordsFailsTheRunNamingTheFile) {
  const fs::path d = fresh_dir("llmload_prompt_tokens_bad");
  const std::string tok_path = llmload_test::write_word_tokenizer(
      (d / "few.json").string(), llmload_test::word_tokenizer_words(40, 16));
  std::ofstream(d / "s.yaml") << "target: {url: \"http://127.0.0.1:9\", model: m}\n"
                                 "load: {requests: 5}\n"
                                 "prompts: {input_tokens: 100, tokenizer: "
                              << tok_path << "}\n";
  const int code = run_llmload(
      "run " + (d / "s.yaml").string() + " --out " + (d / "out").string() + " --no-report",
      (d / "log").string());
  EXPECT_NE(code, 0);
  const std::string log = slurp((d / "log").string());
  EXPECT_NE(log.find("prompts.tokenizer: tokenizer '" + tok_path +
                     "': only 40 lowercase ASCII words are one token each"),
            std::string::npos)
      << log;
}

}  // namespace
