// The findings rules over a RunResult: each fires on the numbers it names, with them as
// evidence, and stays silent on a clean result; summary.json writes and reads them back.
#include "common/findings.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "common/results_json.h"

namespace llmload {
namespace {

// A clean run: 100 ok requests with usage, steady TTFT, nothing dropped.
RunResult clean() {
  RunResult r;
  r.run.id = "clean";
  r.run.duration_s = 10;
  GroupStats g;
  g.labels = {{"model", "m"}};
  for (int i = 0; i < 100; ++i) {
    g.counters.requests++;
    g.counters.ok++;
    g.counters.tokens_from_usage++;
    g.counters.output_tokens += 50;
    g.record(Metric::kTtft, 50'000 + i * 100);
  }
  r.groups.push_back(GroupResult{g, std::nullopt});
  recompute_total(r);
  for (int k = 0; k < 10; ++k) {
    IntervalRow row;
    row.elapsed_s = k + 1;
    row.interval_s = 1;
    row.requests = row.ok = 10;
    row.requests_per_s = 10;
    row.ttft_p50_ms = 50.0 + k % 3;
    r.intervals.push_back(row);
  }
  return r;
}

// The finding of `rule`, copied out (nullopt when it did not fire).
std::optional<Finding> find(const std::vector<Finding>& fs, const std::string& rule) {
  for (const Finding& f : fs)
    if (f.rule == rule) return f;
  return std::nullopt;
}

void fail_requests(RunResult& r, ErrorKind kind, int n) {
  for (int i = 0; i < n; ++i) r.groups[0].stats.record_error(kind, "sample " + std::to_string(i));
  recompute_total(r);
}

TEST(Findings, ACleanRunHasNone) {
  EXPECT_TRUE(find_findings(clean()).empty());
  const auto j = nlohmann::json::parse(summary_to_string(clean()));
  ASSERT_TRUE(j["findings"].is_array()) << "always present";
  EXPECT_TRUE(j["findings"].empty());
}

TEST(Findings, ClientSaturated) {
  RunResult r = clean();
  r.run.client.saturated = true;
  r.run.client.loop_lag_ms_p99 = 25.5;
  r.run.client.cpu_busy = 0.97;
  const std::optional<Finding> f = find(find_findings(r), "client_saturated");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->severity, "warning");
  EXPECT_EQ(f->evidence["loop_lag_ms_p99"], 25.5) << f->evidence.dump();
  EXPECT_NE(f->message.find("25.5 ms"), std::string::npos) << f->message;
  EXPECT_NE(f->advice.find("workers"), std::string::npos);
}

TEST(Findings, RateLimitedSaysFromWhichRate) {
  RunResult r = clean();
  fail_requests(r, ErrorKind::kHttp429, 20);
  r.intervals[6].failed = r.intervals[6].errors = 5;
  r.intervals[6].requests_per_s = 42.5;
  const auto fs = find_findings(r);
  const std::optional<Finding> f = find(fs, "rate_limited");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["http_429"], 20);
  EXPECT_EQ(f->evidence["from_requests_per_s"], 42.5);
  EXPECT_NE(f->message.find("42.5 req/s"), std::string::npos) << f->message;
  // 429s are every failure: errors_dominated names them too.
  const std::optional<Finding> d = find(fs, "errors_dominated");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->evidence["kind"], "http_429");
  EXPECT_EQ(d->evidence["share_of_failures"], 1.0);
  EXPECT_EQ(d->severity, "warning") << "20 of 120 failed: above 5 %";
  EXPECT_EQ(d->evidence["sample"], "sample 0");
}

TEST(Findings, ErrorsDominatedOnlyWhenOneKindIsMost) {
  RunResult r = clean();
  fail_requests(r, ErrorKind::kReset, 2);
  fail_requests(r, ErrorKind::kIdleTimeout, 2);
  EXPECT_EQ(find(find_findings(r), "errors_dominated"), std::nullopt) << "half is not most";
  fail_requests(r, ErrorKind::kReset, 1);
  const std::optional<Finding> f = find(find_findings(r), "errors_dominated");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["kind"], "reset");
  EXPECT_EQ(f->evidence["count"], 3);
  EXPECT_EQ(f->severity, "info") << "5 of 105 failed: under 5 %";
  EXPECT_EQ(find(find_findings(r), "rate_limited"), std::nullopt);
}

TEST(Findings, TokensCounted) {
  RunResult r = clean();
  r.groups[0].stats.counters.tokens_from_usage -= 30;
  r.groups[0].stats.counters.tokens_counted += 30;
  recompute_total(r);
  const std::optional<Finding> f = find(find_findings(r), "tokens_counted");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->severity, "info");
  EXPECT_EQ(f->evidence["tokens_counted"], 30);
  EXPECT_EQ(f->evidence["tokens_from_usage"], 70);
}

TEST(Findings, WarmupShortWhenTheFirstIntervalIsFarAboveTheRest) {
  RunResult r = clean();
  r.intervals[0].ttft_p50_ms = 140;  // under 3× 51
  EXPECT_EQ(find(find_findings(r), "warmup_short"), std::nullopt);
  r.intervals[0].ttft_p50_ms = 900;
  const std::optional<Finding> f = find(find_findings(r), "warmup_short");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["first_interval_ttft_p50_ms"], 900.0);
  EXPECT_EQ(f->evidence["rest_median_ttft_p50_ms"], 51.0);
  EXPECT_NE(f->advice.find("load.warmup"), std::string::npos);
  // A fast server's noise is not a cold start: 3× of 1 ms is still under 50 ms more.
  for (IntervalRow& row : r.intervals) row.ttft_p50_ms = 1.0;
  r.intervals[0].ttft_p50_ms = 20;
  EXPECT_EQ(find(find_findings(r), "warmup_short"), std::nullopt);
  // Without intervals (a summary read back, a merge) the rule cannot judge and says nothing.
  r.intervals.clear();
  EXPECT_EQ(find(find_findings(r), "warmup_short"), std::nullopt);
}

TEST(Findings, DroppedArrivals) {
  RunResult r = clean();
  r.groups[0].stats.counters.dropped = 25;
  recompute_total(r);
  const std::optional<Finding> f = find(find_findings(r), "dropped_arrivals");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["dropped"], 25);
  EXPECT_DOUBLE_EQ(f->evidence["dropped_ratio"].get<double>(), 25.0 / 125.0);
}

// A tail: 90 requests at ~50 ms, 10 at 800 ms (TTFT p99 / p50 = 16).
RunResult tailed() {
  RunResult r = clean();
  for (int i = 0; i < 10; ++i) r.groups[0].stats.record(Metric::kTtft, 800'000);
  recompute_total(r);
  return r;
}

TEST(Findings, ServerQueueingNeedsATailAndTheServerSayingRequestsWaited) {
  RunResult r = tailed();
  EXPECT_EQ(find(find_findings(r), "server_queueing"), std::nullopt)
      << "a tail alone is not queueing: the server may be slow at its own work";
  // The server's own figures: the tail was spent waiting before its work.
  for (int i = 0; i < 90; ++i) r.groups[0].stats.record_server("server.wait_ms", 2'000);
  for (int i = 0; i < 10; ++i) r.groups[0].stats.record_server("server.wait_ms", 750'000);
  recompute_total(r);
  auto f = find(find_findings(r), "server_queueing");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->severity, "warning");
  EXPECT_GT(f->evidence["ttft_p99_over_p50"].get<double>(), 3.0);
  EXPECT_GT(f->evidence["server_wait_ms_p99"].get<double>(), 700.0);
  EXPECT_NE(f->message.find("at capacity"), std::string::npos) << f->message;

  // Or the target's queue rose (its /metrics), without server.wait_ms.
  RunResult q = tailed();
  q.target.url = "http://127.0.0.1:1/metrics";
  q.target.add({{"llamacpp:requests_deferred", 0}});
  q.target.add({{"llamacpp:requests_deferred", 12}});
  q.target.add({{"llamacpp:requests_deferred", 3}});
  f = find(find_findings(q), "server_queueing");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["queue_series"], "llamacpp:requests_deferred");
  EXPECT_EQ(f->evidence["queue_max"], 12.0);
  // A queue that never rose says nothing.
  RunResult flat = tailed();
  flat.target.url = "x";
  flat.target.add({{"vllm:num_requests_waiting", 0}});
  flat.target.add({{"vllm:num_requests_waiting", 0}});
  EXPECT_EQ(find(find_findings(flat), "server_queueing"), std::nullopt);
}

TEST(Findings, TokensMismatch) {
  RunResult r = clean();
  r.groups[0].stats.record_tokens_mismatch("server 12, ours 11");
  recompute_total(r);
  auto f = find(find_findings(r), "tokens_mismatch");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["tokens_mismatch"], 1);
  EXPECT_EQ(f->evidence["sample"], "server 12, ours 11");
}

TEST(Findings, PrefixCacheHitsOnlyWhenThePromptsWereMeantToBeUnique) {
  RunResult r = clean();
  r.groups[0].stats.counters.cached_tokens = 300;
  r.groups[0].stats.counters.cache_prompt_tokens = 1000;
  recompute_total(r);
  r.run.scenario = {{"prompts", {{"source", "jsonl"}, {"unique_prefix", false}}}};
  EXPECT_EQ(find(find_findings(r), "prefix_cache_hits"), std::nullopt)
      << "a dataset without unique_prefix may share prefixes on purpose";
  r.run.scenario = {{"prompts", {{"source", "jsonl"}, {"unique_prefix", true}}}};
  auto f = find(find_findings(r), "prefix_cache_hits");
  ASSERT_TRUE(f.has_value());
  EXPECT_DOUBLE_EQ(f->evidence["hit_rate"].get<double>(), 0.3);
  r.run.scenario = {{"prompts", {{"source", "synthetic"}, {"shared_prefix_tokens", 0}}}};
  EXPECT_TRUE(find(find_findings(r), "prefix_cache_hits").has_value());
  r.run.scenario = {{"prompts", {{"source", "synthetic"}, {"shared_prefix_tokens", 64}}}};
  EXPECT_EQ(find(find_findings(r), "prefix_cache_hits"), std::nullopt) << "a shared prefix asked";
  // At most 1 %: silent.
  r.run.scenario = {{"prompts", {{"source", "synthetic"}, {"shared_prefix_tokens", 0}}}};
  r.groups[0].stats.counters.cached_tokens = 10;
  recompute_total(r);
  EXPECT_EQ(find(find_findings(r), "prefix_cache_hits"), std::nullopt);
}

TEST(Findings, WrittenAndReadBackAndCheckedOnTheWayIn) {
  RunResult r = clean();
  r.run.client.saturated = true;
  fail_requests(r, ErrorKind::kHttp429, 3);
  r.findings = find_findings(r);
  ASSERT_GE(r.findings.size(), 2u);
  auto back = parse_summary(summary_to_string(r));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->findings, r.findings);
  nlohmann::json j = nlohmann::json::parse(summary_to_string(r));
  j["findings"][0]["severity"] = "fatal";
  auto bad = summary_from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("findings[0].severity"), std::string::npos) << bad.error();
  j.erase("findings");
  auto old = summary_from_json(j);
  ASSERT_TRUE(old.ok()) << old.error();
  EXPECT_TRUE(old->findings.empty()) << "a summary from before findings has none";
}

}  // namespace
}  // namespace llmload
