// Findings from real runs against the mock: each rule fires on the load that causes it, and a
// clean run has an empty `findings` list. (client_saturated is triggered and checked in
// client_saturation_test.cpp, on the same flooded loop that sets client.saturated.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;

struct Outcome {
  int code = -1;
  nlohmann::json summary;
  std::string log;
};

// Runs `llmload run` on a scenario whose target is `url`, with `load` and `target_extra` as given.
Outcome run(const fs::path& d, const std::string& url, const std::string& load,
            const std::string& target_extra = "") {
  std::ofstream(d / "s.yaml") << "name: findings\n"
                              << "target: {url: " << url
                              << ", api: openai-chat, model: mock-model" << target_extra << "}\n"
                              << "load: " << load << "\n"
                              << "prompts: {source: synthetic, input_tokens: 8}\n"
                              << "output: {max_tokens: 8}\n";
  Outcome o;
  o.code = run_llmload("run " + (d / "s.yaml").string() + " --no-report --out " +
                           (d / "out").string() + " --summary-md " + (d / "summary.md").string(),
                       (d / "log").string());
  o.log = slurp((d / "log").string());
  const std::string text = slurp((d / "out" / "summary.json").string());
  if (!text.empty()) o.summary = nlohmann::json::parse(text);
  return o;
}

const nlohmann::json* finding(const Outcome& o, const std::string& rule) {
  if (!o.summary.contains("findings")) return nullptr;
  for (const auto& f : o.summary["findings"])
    if (f["rule"] == rule) return &f;
  return nullptr;
}

TEST(FindingsRun, ACleanRunHasAnEmptyList) {
  const fs::path d = fresh_dir("llmload_findings_clean");
  const Outcome o = run(d, "mock", "{concurrency: 2, requests: 20}");
  ASSERT_EQ(o.code, 0) << o.log;
  ASSERT_TRUE(o.summary["findings"].is_array());
  EXPECT_TRUE(o.summary["findings"].empty()) << o.summary["findings"].dump();
  EXPECT_EQ(o.log.find("finding "), std::string::npos) << o.log;
  EXPECT_EQ(slurp((d / "summary.md").string()).find("### Findings"), std::string::npos);
}

TEST(FindingsRun, RateLimitedAndErrorsDominatedOnA429Server) {
  const fs::path d = fresh_dir("llmload_findings_429");
  Proc mock;
  const std::string url = start_mock(mock, (d / "mock.log").string(),
                                     {"--fault-rate", "0.5", "--faults", "http429"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  const Outcome o = run(d, url, "{concurrency: 2, requests: 40}");
  ASSERT_FALSE(o.summary.is_null()) << o.log;
  const nlohmann::json* rl = finding(o, "rate_limited");
  ASSERT_NE(rl, nullptr) << o.summary["findings"].dump();
  EXPECT_EQ((*rl)["severity"], "warning");
  EXPECT_EQ((*rl)["evidence"]["http_429"], o.summary["errors"]["http_429"]["count"]);
  EXPECT_TRUE((*rl)["evidence"].contains("from_requests_per_s")) << rl->dump();
  const nlohmann::json* ed = finding(o, "errors_dominated");
  ASSERT_NE(ed, nullptr) << o.summary["findings"].dump();
  EXPECT_EQ((*ed)["evidence"]["kind"], "http_429");
  // Shown on the terminal and in summary.md too.
  EXPECT_NE(o.log.find("finding warning rate_limited: "), std::string::npos) << o.log;
  EXPECT_NE(slurp((d / "summary.md").string()).find("`rate_limited`"), std::string::npos);
}

TEST(FindingsRun, TokensCountedWhenTheServerSendsNoUsage) {
  const fs::path d = fresh_dir("llmload_findings_counted");
  const Outcome o = run(d, "mock", "{concurrency: 2, requests: 10}",
                        ", stream_options: {include_usage: false}");
  ASSERT_EQ(o.code, 0) << o.log;
  const nlohmann::json* f = finding(o, "tokens_counted");
  ASSERT_NE(f, nullptr) << o.summary["findings"].dump();
  EXPECT_EQ((*f)["severity"], "info");
  EXPECT_EQ((*f)["evidence"]["tokens_counted"], 10);
}

TEST(FindingsRun, DroppedArrivalsWhenMaxInFlightCapsTheRate) {
  const fs::path d = fresh_dir("llmload_findings_dropped");
  Proc mock;
  // Each request takes ~0.5 s; 40 arrivals/s with at most 2 in flight: most are dropped.
  const std::string url = start_mock(mock, (d / "mock.log").string(), {"--ttft", "500ms"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  const Outcome o = run(d, url, "{rate: 40, max_in_flight: 2, duration: 2s, grace: 3s}");
  ASSERT_FALSE(o.summary.is_null()) << o.log;
  const nlohmann::json* f = finding(o, "dropped_arrivals");
  ASSERT_NE(f, nullptr) << o.summary["findings"].dump();
  EXPECT_GT((*f)["evidence"]["dropped"].get<int64_t>(), 20);
  EXPECT_EQ((*f)["evidence"]["dropped"], o.summary["totals"]["dropped"]);
}

TEST(FindingsRun, WarmupShortOnAColdServer) {
  const fs::path d = fresh_dir("llmload_findings_cold");
  Proc mock;
  // The model loads on the first request (1.5 s); each request then takes ~1.05 s, so the first
  // interval with completions holds only the four that waited for the load.
  const std::string url = start_mock(mock, (d / "mock.log").string(), {"--cold-start", "1500ms"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  std::ofstream(d / "s.yaml") << "name: cold\n"
                              << "target: {url: " << url << ", api: openai-chat, model: m}\n"
                              << "load: {concurrency: 4, duration: 5s, grace: 5s}\n"
                              << "prompts: {source: synthetic, input_tokens: 8}\n"
                              << "output: {max_tokens: 100}\n";
  ASSERT_EQ(run_llmload("run " + (d / "s.yaml").string() + " --no-report --out " +
                            (d / "out").string(),
                        (d / "log").string()),
            0)
      << slurp((d / "log").string());
  const auto j = nlohmann::json::parse(slurp((d / "out" / "summary.json").string()));
  const nlohmann::json* f = nullptr;
  for (const auto& x : j["findings"])
    if (x["rule"] == "warmup_short") f = &x;
  ASSERT_NE(f, nullptr) << j["findings"].dump() << "\n" << slurp((d / "out" / "timeseries.csv").string());
  EXPECT_GT((*f)["evidence"]["first_interval_ttft_p50_ms"].get<double>(), 1000);
  EXPECT_LT((*f)["evidence"]["rest_median_ttft_p50_ms"].get<double>(), 300);
}

TEST(FindingsRun, ServerQueueingWhenRequestsWaitForASlot) {
  const fs::path d = fresh_dir("llmload_findings_queue");
  Proc mock;
  // 4 slots and 5 streams of ~0.45 s (40 tokens): about one request in five waits up to a whole
  // request for a slot (TTFT p99 ~9× p50); the server's timings (llama.cpp style) leave the wait
  // out, so server.wait_ms holds it, and the mock's /metrics shows requests deferred.
  const std::string url = start_mock(
      mock, (d / "mock.log").string(),
      {"--max-streams", "4", "--over-capacity", "queue", "--usage", "final"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  const Outcome o = run(d, url, "{concurrency: 5, duration: 4s, grace: 5s}",
                        ", headers: {x-mock-tokens: '40'}, metrics_url: " + url + "/metrics");
  ASSERT_FALSE(o.summary.is_null()) << o.log;
  const nlohmann::json* f = finding(o, "server_queueing");
  ASSERT_NE(f, nullptr) << o.summary["findings"].dump() << o.summary["metrics"]["ttft"].dump();
  EXPECT_GT((*f)["evidence"]["ttft_p99_over_p50"].get<double>(), 3.0);
  EXPECT_TRUE((*f)["evidence"].contains("server_wait_ms_p99")) << f->dump();
}

TEST(FindingsRun, TokensMismatchWhenTheServerCountsOtherwise) {
  const fs::path d = fresh_dir("llmload_findings_mismatch");
  Proc mock;
  // Two tokens per event and llama.cpp-style timings: the server says n, we count n / 2 events.
  const std::string url = start_mock(mock, (d / "mock.log").string(),
                                     {"--tokens-per-chunk", "2", "--usage", "final"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  const Outcome o = run(d, url, "{concurrency: 2, requests: 6}");
  ASSERT_EQ(o.code, 0) << o.log;
  const nlohmann::json* f = finding(o, "tokens_mismatch");
  ASSERT_NE(f, nullptr) << o.summary["findings"].dump();
  EXPECT_EQ((*f)["evidence"]["tokens_mismatch"], 6);
}

TEST(FindingsRun, PrefixCacheHitsOnSyntheticPromptsMeantToBeUnique) {
  const fs::path d = fresh_dir("llmload_findings_cache");
  Proc mock;
  const std::string url = start_mock(mock, (d / "mock.log").string(),
                                     {"--cached-share", "0.5", "--usage", "final"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  const Outcome o = run(d, url, "{concurrency: 2, requests: 6}");
  ASSERT_EQ(o.code, 0) << o.log;
  const nlohmann::json* f = finding(o, "prefix_cache_hits");
  ASSERT_NE(f, nullptr) << o.summary["findings"].dump() << o.summary["totals"].dump();
  EXPECT_NEAR((*f)["evidence"]["hit_rate"].get<double>(), 0.5, 0.01);
}

}  // namespace
