// The ready scenarios of the request modes (scenarios/cancel.yaml, non-streaming.yaml,
// embeddings.yaml) run as the docs say, `llmload run` against the built-in mock as a real
// process, cut to a few dozen requests: the results files tell the truth about each mode.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/results_csv.h"
#include "tests/integration/process_util.h"

namespace {

using llmload_test::run_to_end;
using llmload_test::slurp;
using llmload_test::test_dir;

std::string scenario(const std::string& name) {
  return std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/" + name;
}

// Runs a ready scenario with extra flags into `out`; the summary.json it wrote.
nlohmann::json run_scenario(const std::string& name, const std::string& out,
                            std::vector<std::string> extra) {
  std::vector<std::string> args = {"llmload", "run",     scenario(name), "--out",
                                   out,       "--quiet", "--no-report"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto [code, log] = run_to_end(args, out + ".log", 60);
  EXPECT_EQ(code, 0) << log;
  return nlohmann::json::parse(slurp(out + "/summary.json"));
}

// summary.csv's count rows of the total: metric -> count.
std::map<std::string, int64_t> csv_counts(const std::string& path) {
  std::map<std::string, int64_t> out;
  std::stringstream ss(slurp(path));
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("total,", 0) != 0) continue;
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (f.size() >= 4 && f[2] == "requests") out[f[1]] = std::stoll(f[3]);
  }
  return out;
}

TEST(RunModes, CancelScenarioCountsClientCancelledInEveryFile) {
  const std::string out = test_dir("run-modes") + "/cancel";
  constexpr int64_t kN = 80;
  const auto j =
      run_scenario("cancel.yaml", out,
                   {"--requests", std::to_string(kN), "--concurrency", "40", "--requests-csv"});
  const auto& t = j["totals"];
  const int64_t cancelled = t["client_cancelled"].get<int64_t>();
  EXPECT_EQ(t["requests"].get<int64_t>(), kN);
  EXPECT_EQ(t["requests"].get<int64_t>(),
            t["ok"].get<int64_t>() + t["failed"].get<int64_t>() + cancelled);
  EXPECT_EQ(t["failed"].get<int64_t>(), 0);
  // share 0.2 of 80, every close (<= 800 ms) before its stream's end (~1 s): Binomial(80, 0.2),
  // mean 16, sd 3.58; 5 sd either side.
  const double mean = kN * 0.2, sd = std::sqrt(kN * 0.2 * 0.8);
  EXPECT_GE(double(cancelled), mean - 5 * sd);
  EXPECT_LE(double(cancelled), mean + 5 * sd);
  // TTFT kept for the cancelled ones (the mock's first token comes at 50 ms, closes from 100 ms).
  EXPECT_EQ(j["metrics"]["ttft"]["count"].get<int64_t>(), t["ok"].get<int64_t>() + cancelled);
  EXPECT_EQ(j["metrics"]["e2e"]["count"].get<int64_t>(), t["ok"].get<int64_t>());
  // summary.csv carries the same counts.
  const auto counts = csv_counts(out + "/summary.csv");
  EXPECT_EQ(counts.at("requests"), kN);
  EXPECT_EQ(counts.at("client_cancelled"), cancelled);
  EXPECT_EQ(counts.at("requests"),
            counts.at("ok") + counts.at("failed") + counts.at("client_cancelled"));
  // requests.csv: one client_cancelled row per cancelled request.
  const std::string rows = slurp(out + "/requests.csv");
  int64_t rows_cancelled = 0;
  for (size_t at = rows.find(",client_cancelled,"); at != std::string::npos;
       at = rows.find(",client_cancelled,", at + 1))
    ++rows_cancelled;
  EXPECT_EQ(rows_cancelled, cancelled);
  // timeseries.csv: each interval keeps the identity, and the intervals hold every close.
  auto series = llmload::parse_timeseries_csv(slurp(out + "/timeseries.csv"), "timeseries.csv");
  ASSERT_TRUE(series) << series.error();
  int64_t series_cancelled = 0;
  for (const auto& r : *series) {
    EXPECT_EQ(r.requests, r.ok + r.failed + r.client_cancelled) << "at " << r.elapsed_s << " s";
    series_cancelled += r.client_cancelled;
  }
  EXPECT_EQ(series_cancelled, cancelled);
}

TEST(RunModes, NonStreamingScenarioHasE2eAndUsageTokensButNoTtft) {
  const std::string out = test_dir("run-modes") + "/non-streaming";
  const auto j =
      run_scenario("non-streaming.yaml", out, {"--requests", "40", "--concurrency", "20"});
  const auto& t = j["totals"];
  EXPECT_EQ(t["ok"].get<int64_t>(), 40);
  EXPECT_EQ(t["tokens_from_usage"].get<int64_t>(), 40);
  EXPECT_EQ(t["output_tokens"].get<int64_t>(), 40 * 64);
  EXPECT_FALSE(j["metrics"].contains("ttft"));
  EXPECT_FALSE(j["metrics"].contains("itl"));
  EXPECT_EQ(j["metrics"]["e2e"]["count"].get<int64_t>(), 40);
  EXPECT_EQ(j["metrics"]["ttfb"]["count"].get<int64_t>(), 40);
}

TEST(RunModes, EmbeddingsScenarioReportsInputsAndTokensPerSecond) {
  const std::string out = test_dir("run-modes") + "/embeddings";
  const auto j = run_scenario("embeddings.yaml", out, {"--requests", "40"});
  const auto& t = j["totals"];
  EXPECT_EQ(t["ok"].get<int64_t>(), 40);
  EXPECT_EQ(t["inputs"].get<int64_t>(), 40 * 16);  // output.batch: 16
  EXPECT_GT(t["input_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(t["output_tokens"].get<int64_t>(), 0);
  const double secs = j["run"]["duration_s"].get<double>();
  ASSERT_GT(secs, 0);
  EXPECT_DOUBLE_EQ(t["inputs_per_s"].get<double>(), double(40 * 16) / secs);
  EXPECT_DOUBLE_EQ(t["input_tokens_per_s"].get<double>(),
                   double(t["input_tokens"].get<int64_t>()) / secs);
  EXPECT_FALSE(j["metrics"].contains("ttft"));
  EXPECT_EQ(j["metrics"]["e2e"]["count"].get<int64_t>(), 40);
}

}  // namespace
