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
