// Output tokens counted by the scenario's tokenizer when the server sends no usage, against the
// mock (`--usage none`, its truth log with the answer text): every request's output_tokens is
// our tokenizer's count of exactly the text the mock streamed, tokens_source `tokenizer`, and
// summary.json counts it in tokens_tokenized; usage, when the server sends it, wins; without a
// tokenizer the chunks are counted as before. For every streamed API the mock speaks.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base64.h"
#include "common/tokenizer.h"
#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;

constexpr int kRequests = 12;

// A tiktoken file (named cl100k_base so it loads) whose merges make the mock's words 1-4
// tokens, so a tokenizer count differs from a count of chunks or words.
std::string write_tokenizer(const fs::path& d) {
  std::string s;
  for (int b = 0; b < 256; ++b)
    s += llmload::base64_encode(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) +
         "\n";
  uint32_t rank = 256;
  for (const char* t : {" t", "he", "in", "er", " a", "on", " w", "re", " s", "at", "ou", "st"})
    s += llmload::base64_encode(t) + " " + std::to_string(rank++) + "\n";
  // 64 three-letter words that are one token with and without a leading space (letters the
  // merges above never touch), which synthetic prompts exact in this tokenizer's tokens need
  // (common/token_words.h).
  std::vector<std::string> pairs;
  for (char x : std::string("bcdfgjkm"))
    for (char y : std::string("pqvxyzbd")) pairs.push_back(std::string{x, y});
  for (const std::string& form : {std::string(), std::string("k"), std::string(" k")})
    for (const std::string& xy : pairs) {
      const std::string t = form.empty() ? xy : form[0] == ' ' ? " " + xy + "k" : xy + "k";
      s += llmload::base64_encode(t) + " " + std::to_string(rank++) + "\n";
    }
  const fs::path path = d / "out_cl100k_base.tiktoken";
  std::ofstream(path) << s;
  return path.string();
}

std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(p.string()));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

struct Outcome {
  int code = -1;
  std::string log;
  nlohmann::json summary;
  std::vector<nlohmann::json> calls;            // requests.jsonl
  std::map<std::string, nlohmann::json> truth;  // the mock's truth log by request id
};

// One run of `requests` requests against a fresh mock started with `mock_args` (plus its truth
// log). max_tokens 0: the request names none (the mock's --tokens decides).
Outcome run(const fs::path& d, const std::string& api, const std::vector<std::string>& mock_args,
            const std::string& tokenizer, int max_tokens = 30, int requests = kRequests) {
  Outcome r;
  Proc mock;
  std::vector<std::string> args = {
      "--ttft", "0s", "--itl", "0s", "--truth", (d / "truth.jsonl").string(), "--truth-text"};
  args.insert(args.end(), mock_args.begin(), mock_args.end());
  const std::string url = start_mock(mock, (d / "mock.log").string(), args);
  if (url.empty()) {
    r.log = slurp((d / "mock.log").string());
    return r;
  }
  std::ofstream(d / "s.yaml") << "name: tokens\n"
                              << "target: {url: " << url << ", api: " << api
                              << ", model: mock-model}\n"
                              << "load: {concurrency: 3, requests: " << requests << "}\n"
                              << "prompts: {source: synthetic, input_tokens: 8"
                              << (tokenizer.empty() ? "" : ", tokenizer: " + tokenizer) << "}\n"
                              << (max_tokens > 0
                                      ? "output: {max_tokens: " + std::to_string(max_tokens) + "}\n"
                                      : "");
  r.code =
      run_llmload("run " + (d / "s.yaml").string() + " --no-report --out " + (d / "out").string() +
                      " --requests-jsonl " + (d / "calls.jsonl").string(),
                  (d / "log").string());
  r.log = slurp((d / "log").string());
  const std::string text = slurp((d / "out" / "summary.json").string());
  if (!text.empty()) r.summary = nlohmann::json::parse(text);
  r.calls = read_jsonl(d / "calls.jsonl");
  ::kill(mock.pid, SIGINT);  // the mock flushes its truth log as it exits
  EXPECT_EQ(llmload_test::wait_exit(mock, 30), 0);
  for (auto& t : read_jsonl(d / "truth.jsonl"))
    if (!t["api"].get<std::string>().empty()) r.truth[t["id"].get<std::string>()] = t;
  return r;
}

const nlohmann::json* finding(const nlohmann::json& summary, const std::string& rule) {
  for (const auto& f : summary["findings"])
    if (f["rule"] == rule) return &f;
  return nullptr;
}

class TokensTokenizer : public testing::TestWithParam<std::string> {};

TEST_P(TokensTokenizer, OutputTokensAreTheTokenizersCountOfTheStreamedText) {
  const std::string api = GetParam();
  const fs::path d = fresh_dir("llmload_tokens_tokenizer_" + api);
  const std::string tok_path = write_tokenizer(d);
  auto tok = llmload::Tokenizer::load(tok_path);
  ASSERT_TRUE(tok.ok()) << tok.error();
  const Outcome r = run(d, api, {"--usage", "none"}, tok_path);
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_EQ(r.calls.size(), size_t(kRequests)) << r.log;
  int64_t sum = 0, chunks = 0;
  for (const auto& c : r.calls) {
    ASSERT_EQ(c["outcome"], "ok") << c.dump();
    auto t = r.truth.find(c["request_id"].get<std::string>());
    ASSERT_NE(t, r.truth.end()) << "request " << c["request_id"] << " not in the truth log";
    const std::string text = (*t).second["text"].get<std::string>();
    ASSERT_FALSE(text.empty()) << (*t).second.dump();
    EXPECT_EQ(c["tokens_source"], "tokenizer") << c.dump();
    EXPECT_EQ(c["output_tokens"].get<int64_t>(), int64_t((*tok)->count(text)))
        << c.dump() << "\ntext: " << text;
    sum += c["output_tokens"].get<int64_t>();
    chunks += (*t).second["tokens"].get<int64_t>();
  }
  // The tokenizer's count is not the chunk count (else this test could not tell them apart).
  EXPECT_NE(sum, chunks);
  const auto& c = r.summary["totals"];
  EXPECT_EQ(c["tokens_tokenized"], kRequests) << c.dump();
  EXPECT_EQ(c["tokens_counted"], 0) << c.dump();
  EXPECT_EQ(c["tokens_from_usage"], 0) << c.dump();
  EXPECT_EQ(c["output_tokens"], sum) << c.dump();
  const nlohmann::json* f = finding(r.summary, "tokens_counted");
  ASSERT_NE(f, nullptr) << r.summary["findings"].dump();
  EXPECT_EQ((*f)["evidence"]["tokens_tokenized"], kRequests);
  EXPECT_NE((*f)["message"].get<std::string>().find("tokenizer"), std::string::npos)
      << (*f)["message"];
}

TEST_P(TokensTokenizer, UsageWinsOverTheTokenizer) {
  const std::string api = GetParam();
  const fs::path d = fresh_dir("llmload_tokens_usage_" + api);
  const Outcome r = run(d, api, {}, write_tokenizer(d));
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_EQ(r.calls.size(), size_t(kRequests)) << r.log;
  for (const auto& c : r.calls) {
    EXPECT_EQ(c["tokens_source"], "usage") << c.dump();
    auto t = r.truth.find(c["request_id"].get<std::string>());
    ASSERT_NE(t, r.truth.end());
    EXPECT_EQ(c["output_tokens"], (*t).second["tokens"]) << c.dump();
  }
  const auto& c = r.summary["totals"];
  EXPECT_EQ(c["tokens_from_usage"], kRequests) << c.dump();
  EXPECT_EQ(c["tokens_tokenized"], 0) << c.dump();
  EXPECT_EQ(finding(r.summary, "tokens_counted"), nullptr) << r.summary["findings"].dump();
}

TEST_P(TokensTokenizer, WithoutATokenizerTheChunksAreCounted) {
  const std::string api = GetParam();
  const fs::path d = fresh_dir("llmload_tokens_counted_" + api);
  const Outcome r = run(d, api, {"--usage", "none"}, "");
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_EQ(r.calls.size(), size_t(kRequests)) << r.log;
  for (const auto& c : r.calls) {
    EXPECT_EQ(c["tokens_source"], "counted") << c.dump();
    auto t = r.truth.find(c["request_id"].get<std::string>());
    ASSERT_NE(t, r.truth.end());
    EXPECT_EQ(c["output_tokens"], (*t).second["tokens"]) << c.dump();
  }
  const auto& c = r.summary["totals"];
  EXPECT_EQ(c["tokens_counted"], kRequests) << c.dump();
  EXPECT_EQ(c["tokens_tokenized"], 0) << c.dump();
  const nlohmann::json* f = finding(r.summary, "tokens_counted");
  ASSERT_NE(f, nullptr) << r.summary["findings"].dump();
  EXPECT_NE((*f)["advice"].get<std::string>().find("prompts.tokenizer"), std::string::npos);
}

// An answer longer than the text kept per request (4 MiB): the request falls back to counting
// chunks, and the finding says the chunks were counted.
TEST(TokensTokenizerCap, AnAnswerOverTheCapFallsBackToCountedChunks) {
  const fs::path d = fresh_dir("llmload_tokens_tokenizer_cap");
  const Outcome r = run(d, "openai-chat",
                        {"--usage", "none", "--tokens", "1000000", "--tokens-per-chunk", "10000"},
                        write_tokenizer(d), /*max_tokens=*/0, /*requests=*/2);
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_EQ(r.calls.size(), 2u) << r.log;
  for (const auto& c : r.calls) {
    EXPECT_EQ(c["tokens_source"], "counted") << c.dump();
    auto t = r.truth.find(c["request_id"].get<std::string>());
    ASSERT_NE(t, r.truth.end());
    // Counted chunks: 1,000,000 tokens in chunks of 10,000 are 100 (no per-chunk usage).
    EXPECT_EQ(c["output_tokens"], 100) << c.dump();
    EXPECT_GT((*t).second["text"].get<std::string>().size(), size_t(4) << 20) << "not over the cap";
  }
  const auto& c = r.summary["totals"];
  EXPECT_EQ(c["tokens_counted"], 2) << c.dump();
  EXPECT_EQ(c["tokens_tokenized"], 0) << c.dump();
  const nlohmann::json* f = finding(r.summary, "tokens_counted");
  ASSERT_NE(f, nullptr) << r.summary["findings"].dump();
  EXPECT_NE((*f)["message"].get<std::string>().find("stream chunks"), std::string::npos);
}

// Coordinator and worker processes: each worker loads the tokenizer from the path the scenario
// names (its run plan), counts its requests' output with it, and the merged totals and the
// per-worker totals carry tokens_tokenized.
TEST(TokensTokenizerDistributed, WorkerProcessesCountWithTheTokenizer) {
  using llmload_test::spawn;
  using llmload_test::wait_exit;
  using llmload_test::wait_for;
  const fs::path d = fresh_dir("llmload_tokens_tokenizer_dist");
  const std::string tok_path = write_tokenizer(d);
  auto tok = llmload::Tokenizer::load(tok_path);
  ASSERT_TRUE(tok.ok()) << tok.error();
  Proc mock, coord, w1, w2;
  const std::string url = start_mock(mock, (d / "mock.log").string(),
                                     {"--ttft", "0s", "--itl", "0s", "--usage", "none", "--truth",
                                      (d / "truth.jsonl").string(), "--truth-text"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  std::ofstream(d / "s.yaml") << "name: tokens-dist\n"
                              << "target: {url: " << url << ", api: openai-chat, model: m}\n"
                              << "load: {concurrency: 2, requests: " << kRequests << "}\n"
                              << "prompts: {source: synthetic, input_tokens: 8, tokenizer: "
                              << tok_path << "}\n"
                              << "output: {max_tokens: 20}\n";
  const std::string out = (d / "out").string();
  spawn(coord,
        {"llmload", "coordinator", (d / "s.yaml").string(), "--bind", "tcp://127.0.0.1:*",
         "--workers", "2", "--out", out, "--quiet"},
        (d / "coord.log").string());
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp((d / "coord.log").string());
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"},
        (d / "w1.log").string());
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w2"},
        (d / "w2.log").string());
  ASSERT_EQ(wait_exit(coord, 60), 0)
      << slurp((d / "coord.log").string()) << slurp((d / "w1.log").string());
  const auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["totals"]["tokens_tokenized"], kRequests) << j["totals"].dump();
  EXPECT_EQ(j["totals"]["tokens_counted"], 0);
  int64_t per_worker = 0;
  ASSERT_EQ(j["run"]["workers"].size(), 2u);
  for (const auto& w : j["run"]["workers"])
    per_worker += w["totals"]["tokens_tokenized"].get<int64_t>();
  EXPECT_EQ(per_worker, kRequests);
  ::kill(mock.pid, SIGINT);
  EXPECT_EQ(wait_exit(mock, 30), 0);
  int64_t want = 0, n = 0;
  for (auto& t : read_jsonl(d / "truth.jsonl")) {
    if (t["api"].get<std::string>().empty()) continue;
    want += int64_t((*tok)->count(t["text"].get<std::string>()));
    ++n;
  }
  EXPECT_EQ(n, kRequests);
  EXPECT_EQ(j["totals"]["output_tokens"].get<int64_t>(), want);
}

INSTANTIATE_TEST_SUITE_P(Apis, TokensTokenizer,
                         testing::Values("openai-chat", "openai-completions", "anthropic-messages",
                                         "ollama-chat", "ollama-generate"),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
