// server.* metrics end to end: `llmload run` as a process against `llmload mock` in Ollama mode
// and in llama.cpp style (usage and timings on the final chunk). The mock states its planned
// durations (docs/mock.md "Server-reported figures"), so every per-request value is known from
// its options: ttft 20 ms, itl 2 ms, 8 tokens, load 5 ms, half of a 10-word prompt cached.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/results_csv.h"
#include "tests/integration/process_util.h"

namespace {

using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;
using llmload_test::test_dir;

constexpr int kRequests = 12;

// requests.csv as one map per row, by column name.
std::vector<std::map<std::string, std::string>> read_requests(const std::string& path) {
  auto records = llmload::csv_records(slurp(path), path);
  EXPECT_TRUE(records.ok()) << records.error();
  std::vector<std::map<std::string, std::string>> rows;
  if (!records.ok() || records->empty()) return rows;
  const auto& header = records->front().fields;
  for (std::size_t i = 1; i < records->size(); ++i) {
    std::map<std::string, std::string> row;
    const auto& f = (*records)[i].fields;
    for (std::size_t c = 0; c < header.size() && c < f.size(); ++c) row[header[c]] = f[c];
    rows.push_back(std::move(row));
  }
  return rows;
}

struct Target {
  std::string api;
  std::vector<std::string> mock_flags;
};

class ServerMetricsRun : public ::testing::Test {
 protected:
  // Starts the mock with `t`'s flags and runs 12 requests against it; `extra` are more run
  // arguments (shell words). Returns the exit code; out_ is the results folder.
  int run(const Target& t, const std::string& label, const std::string& extra = "") {
    dir_ = test_dir("server-metrics-" + label);
    std::vector<std::string> flags = {"--ttft", "20ms", "--itl",          "2ms",
                                      "--load", "5ms",  "--cached-share", "0.5"};
    flags.insert(flags.end(), t.mock_flags.begin(), t.mock_flags.end());
    const std::string url = start_mock(mock_, dir_ + "/mock.log", flags);
    EXPECT_FALSE(url.empty()) << slurp(dir_ + "/mock.log");
    const std::string scenario = dir_ + "/scenario.yaml";
    std::ofstream(scenario) << "name: server-metrics\ntarget:\n  url: " << url
                            << "\n  api: " << t.api
                            << "\n  model: m\nload:\n  concurrency: 2\n  requests: " << kRequests
                            << "\nprompts:\n  source: inline\n  items:\n"
                               "    - one two three four five six seven eight nine ten\n"
                               "output:\n  max_tokens: 8\n";
    out_ = dir_ + "/out";
    return run_llmload(
        "run " + scenario + " --out " + out_ + " --quiet --no-report --requests-csv " + extra,
        dir_ + "/run.log");
  }
  std::string log() const { return slurp(dir_ + "/run.log"); }
  nlohmann::json summary() const { return nlohmann::json::parse(slurp(out_ + "/summary.json")); }

  Proc mock_;
  std::string dir_, out_;
};

// The metric's p50 in summary.json (its unit's numbers: ms, tokens, tokens/s).
double p50(const nlohmann::json& s, const std::string& metric) {
  return s["metrics"][metric]["p50"].get<double>();
}

TEST_F(ServerMetricsRun, OllamaFinalLineValuesPerRequestAndInSummary) {
  ASSERT_EQ(run({"ollama-chat", {}}, "ollama"), 0) << log();
  const auto rows = read_requests(out_ + "/requests.csv");
  ASSERT_EQ(rows.size(), std::size_t(kRequests));
  for (const auto& r : rows) {
    ASSERT_EQ(r.at("outcome"), "ok");
    EXPECT_EQ(r.at("server_load_ms"), "5.000");
    EXPECT_EQ(r.at("server_prompt_tokens"), "10");
    EXPECT_EQ(r.at("server_prompt_eval_ms"), "20.000");  // ttft, no per-token prefill
    EXPECT_EQ(r.at("server_output_tokens"), "8");
    EXPECT_EQ(r.at("server_eval_ms"), "14.000");  // (8 − 1) × 2 ms
    EXPECT_EQ(r.at("server_total_ms"), "39.000");
    EXPECT_EQ(r.at("server_cached_tokens"), "") << "Ollama reports no cache";
    EXPECT_EQ(r.at("server_prompt_tokens_per_s"), "500.000");
    EXPECT_EQ(r.at("server_eval_tokens_per_s"), "571.429");
    // Our ttft includes the server's 25 ms: the wait is what is left (loopback, a few ms).
    const double ttft = std::stod(r.at("ttft_ms"));
    const double wait = std::stod(r.at("server_wait_ms"));
    EXPECT_GE(ttft, 25.0);
    EXPECT_NEAR(wait, ttft - 25.0, 0.002);
  }
  const auto s = summary();
  const auto& total = s;
  EXPECT_EQ(total["metrics"]["server.output_tokens"]["count"], kRequests);
  EXPECT_NEAR(p50(total, "server.eval_ms"), 14.0, 0.02);
  EXPECT_NEAR(p50(total, "server.load_ms"), 5.0, 0.01);
  EXPECT_EQ(p50(total, "server.eval_tokens_per_s"), 571);
  EXPECT_EQ(total["totals"]["tokens_mismatch"], 0) << "one token per line: our count agrees";
  EXPECT_TRUE(total["totals"]["prefix_cache"]["hit_rate"].is_null());
  ASSERT_EQ(s["groups"].size(), 1u);
  EXPECT_EQ(s["groups"][0]["metrics"]["server.eval_ms"]["count"], kRequests);
}

TEST_F(ServerMetricsRun, LlamaCppTimingsValuesAndPrefixCacheHitRate) {
  ASSERT_EQ(run({"openai-chat", {"--usage", "final"}}, "llamacpp"), 0) << log();
  const auto rows = read_requests(out_ + "/requests.csv");
  ASSERT_EQ(rows.size(), std::size_t(kRequests));
  for (const auto& r : rows) {
    ASSERT_EQ(r.at("outcome"), "ok");
    EXPECT_EQ(r.at("server_load_ms"), "") << "llama.cpp reports no load time";
    EXPECT_EQ(r.at("server_prompt_tokens"), "5") << "prompt_n: the uncached half";
    EXPECT_EQ(r.at("server_cached_tokens"), "5");
    EXPECT_EQ(r.at("server_prompt_eval_ms"), "20.000");
    EXPECT_EQ(r.at("server_output_tokens"), "8");
    EXPECT_EQ(r.at("server_eval_ms"), "14.000");
    EXPECT_EQ(r.at("server_total_ms"), "");
    EXPECT_EQ(r.at("server_eval_tokens_per_s"), "571.429");
    EXPECT_NE(r.at("server_wait_ms"), "");
  }
  const auto s = summary();
  EXPECT_EQ(s["totals"]["prefix_cache"]["cached_tokens"], 5 * kRequests);
  EXPECT_EQ(s["totals"]["prefix_cache"]["prompt_tokens"], 10 * kRequests);
  EXPECT_DOUBLE_EQ(s["totals"]["prefix_cache"]["hit_rate"].get<double>(), 0.5);
  EXPECT_EQ(s["metrics"]["server.cached_tokens"]["count"], kRequests);
}

// vLLM-style: the cached count in usage.prompt_tokens_details, no timings.
TEST_F(ServerMetricsRun, VllmUsageCachedTokens) {
  ASSERT_EQ(run({"openai-chat", {}}, "vllm"), 0) << log();
  const auto s = summary();
  EXPECT_DOUBLE_EQ(s["totals"]["prefix_cache"]["hit_rate"].get<double>(), 0.5);
  EXPECT_EQ(s["metrics"]["server.cached_tokens"]["count"], kRequests);
  EXPECT_FALSE(s["metrics"].contains("server.eval_ms")) << "no timings were sent";
}

// The mock's eval rate is 571 tokens/s: > 20 passes (exit 0), > 1e9 fails (exit 3).
TEST_F(ServerMetricsRun, AssertOnServerEvalRatePasses) {
  EXPECT_EQ(run({"ollama-chat", {}}, "assert-pass", "--assert 'server.eval_tokens_per_s.p50 > 20'"),
            0)
      << log();
}

TEST_F(ServerMetricsRun, AssertOnServerEvalRateFails) {
  EXPECT_EQ(
      run({"ollama-chat", {}}, "assert-fail", "--assert 'server.eval_tokens_per_s.p50 > 1e9'"), 3)
      << log();
  EXPECT_FALSE(summary()["assertions"][0]["passed"].get<bool>());
}

}  // namespace
