#include <gtest/gtest.h>

#include "analysis/gates/assertions.h"
#include "analysis/gates/junit.h"
#include "analysis/gates/summary_md.h"

namespace llmload::analysis {
namespace {

SloAssertion parse(const char* text) {
  auto a = parse_slo_expr(text);
  EXPECT_TRUE(a.ok()) << text << ": " << (a.ok() ? "" : a.error());
  return a.value();
}

// Two groups: model a (ttft 100..199 ms, 100 ok), model b (ttft 1000 ms, 10 ok, 10 http_429).
RunResult two_group_run() {
  RunResult r;
  r.run.id = "t1";
  r.run.duration_s = 10;
  GroupStats a(Labels{{"model", "a"}, {"target", "http://x"}});
  for (int i = 0; i < 100; ++i) {
    a.record(Metric::kTtft, (100 + i) * 1000);
    a.counters.requests++;
    a.counters.ok++;
    a.counters.goodput++;
    a.counters.output_tokens += 10;
  }
  GroupStats b(Labels{{"model", "b"}, {"target", "http://x"}});
  for (int i = 0; i < 10; ++i) {
    b.record(Metric::kTtft, 1'000'000);
    b.counters.requests++;
    b.counters.ok++;
    b.record_error(ErrorKind::kHttp429, "429 Too Many Requests");
  }
  r.groups.push_back(GroupResult{a, 1.5});
  r.groups.push_back(GroupResult{b, std::nullopt});
  recompute_total(r);
  return r;
}

TEST(Assertions, TotalsAndRatios) {
  RunResult r = two_group_run();
  EXPECT_EQ(*assertion_variable(parse("requests > 0"), r), 120);
  EXPECT_EQ(*assertion_variable(parse("rate_limited < 5"), r), 10);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("error_rate < 1%"), r), 10.0 / 120.0);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("goodput_ratio >= 0.95"), r), 100.0 / 110.0);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("requests_per_s > 1"), r), 12.0);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("output_tokens_per_s > 1"), r), 100.0);
  EXPECT_FALSE(evaluate_assertion(parse("error_rate < 1%"), r).result.passed);
  EXPECT_TRUE(evaluate_assertion(parse("error_rate < 10%"), r).result.passed);
}

TEST(Assertions, MetricStatisticsAreTheHistogramsValuesInMs) {
  RunResult r = two_group_run();
  auto v = assertion_variable(parse("ttft.p50 < 2s"), r);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(*v, double(r.total.histogram(Metric::kTtft)->value_at_percentile(50)) / 1000);
  AssertionOutcome o = evaluate_assertion(parse("ttft.max < 500ms"), r);
  EXPECT_FALSE(o.result.passed);
  ASSERT_TRUE(o.result.value);
  EXPECT_NEAR(*o.result.value, 1000.0, 1.0);
  EXPECT_NE(o.detail.find("ms"), std::string::npos) << o.detail;
}

TEST(Assertions, GroupSelectorLooksOnlyAtMatchingGroups) {
  RunResult r = two_group_run();
  EXPECT_TRUE(evaluate_assertion(parse("model=a: ttft.p99 < 250ms"), r).result.passed);
  EXPECT_FALSE(evaluate_assertion(parse("model=b: ttft.p99 < 250ms"), r).result.passed);
  EXPECT_FALSE(evaluate_assertion(parse("ttft.p99 < 250ms"), r).result.passed);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("model=a: error_rate < 1%"), r), 0.0);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("model=a: cost_usd < 2"), r), 1.5);
  AssertionOutcome missing = evaluate_assertion(parse("model=zzz: ttft.p99 < 1s"), r);
  EXPECT_FALSE(missing.result.passed);
  EXPECT_FALSE(missing.result.value);
  EXPECT_NE(missing.detail.find("model=zzz"), std::string::npos);
}

TEST(Assertions, UnevaluableFails) {
  RunResult empty;
  empty.run.duration_s = 1;
  AssertionOutcome o = evaluate_assertion(parse("ttft.p99 < 1s"), empty);
  EXPECT_FALSE(o.result.passed);
  EXPECT_NE(o.detail.find("not evaluable"), std::string::npos);
  EXPECT_FALSE(evaluate_assertion(parse("error_rate < 1%"), empty).result.passed);
  EXPECT_TRUE(evaluate_assertion(parse("ttft.count == 0"), empty).result.passed);
}

TEST(Assertions, CertainToFail) {
  RunResult r = two_group_run();                               // 120 requests, 10 failed
  EXPECT_TRUE(certain_to_fail(parse("failed < 5"), r, 1000));  // only grows
  EXPECT_FALSE(certain_to_fail(parse("failed < 50"), r, 1000));
  EXPECT_FALSE(certain_to_fail(parse("error_rate < 1%"), r, 1000));  // too few requests
  EXPECT_TRUE(certain_to_fail(parse("error_rate < 1%"), r, 100));
  EXPECT_FALSE(certain_to_fail(parse("requests > 1000"), r, 100));  // may still be reached
}

TEST(Assertions, ClientVariablesReadRunClient) {
  RunResult r = two_group_run();
  r.run.client.saturated = true;
  r.run.client.loop_lag_ms_p99 = 12.5;
  r.run.client.cpu_busy = 0.95;
  r.run.client.timing.timing_values = 200;
  r.run.client.timing.timing_uncertain = 10;
  EXPECT_EQ(*assertion_variable(parse("client.saturated == 0"), r), 1.0);
  EXPECT_FALSE(evaluate_assertion(parse("client.saturated == 0"), r).result.passed);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("client.loop_lag < 10ms"), r), 12.5);
  EXPECT_FALSE(evaluate_assertion(parse("client.loop_lag < 10ms"), r).result.passed);
  EXPECT_TRUE(evaluate_assertion(parse("client.loop_lag < 0.02s"), r).result.passed);
  EXPECT_FALSE(evaluate_assertion(parse("client.cpu_busy < 90%"), r).result.passed);
  EXPECT_TRUE(evaluate_assertion(parse("client.cpu_busy < 96%"), r).result.passed);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("client.timing_uncertain_share < 1%"), r), 0.05);
  AssertionOutcome o = evaluate_assertion(parse("client.timing_uncertain_share < 1%"), r);
  EXPECT_FALSE(o.result.passed);
  EXPECT_NE(o.detail.find("5%"), std::string::npos) << o.detail;
  // Known at the run's end only: never cut a run short.
  EXPECT_FALSE(certain_to_fail(parse("client.saturated == 0"), r, 0));

  r.run.client = ClientHealth{};
  EXPECT_TRUE(evaluate_assertion(parse("client.saturated == 0"), r).result.passed);
  AssertionOutcome none = evaluate_assertion(parse("client.timing_uncertain_share < 1%"), r);
  EXPECT_FALSE(none.result.passed);
  EXPECT_NE(none.detail.find("not evaluable"), std::string::npos) << none.detail;
}

TEST(Assertions, DroppedAndItsShareOfArrivals) {
  RunResult r = two_group_run();  // 120 requests
  r.groups[0].stats.counters.dropped = 30;
  recompute_total(r);
  EXPECT_EQ(*assertion_variable(parse("dropped == 0"), r), 30);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("dropped_ratio < 1%"), r), 30.0 / 150.0);
  EXPECT_FALSE(evaluate_assertion(parse("dropped_ratio < 10%"), r).result.passed);
  EXPECT_TRUE(evaluate_assertion(parse("dropped_ratio < 25%"), r).result.passed);
  EXPECT_DOUBLE_EQ(*assertion_variable(parse("model=b: dropped_ratio < 1%"), r), 0.0);
  EXPECT_TRUE(certain_to_fail(parse("dropped < 10"), r, 1000));  // only grows
  RunResult empty;
  EXPECT_FALSE(evaluate_assertion(parse("dropped_ratio < 1%"), empty).result.passed);
}

TEST(Junit, OneCasePerAssertionWithTheMeasuredValue) {
  std::string xml = junit_xml("llmload.slo", {{"ttft.p99 < 2s", true, "measured 1.0 ms"},
                                              {"error_rate < 1% & <x>", false, "measured 8%"}});
  EXPECT_NE(xml.find("tests=\"2\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"error_rate &lt; 1% &amp; &lt;x&gt;\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"measured 8%\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<x>"), std::string::npos);
  EXPECT_EQ(xml_escape(std::string("a\x01"
                                   "b")),
            "ab");
}

TEST(SummaryMarkdown, StatusAssertionsAndErrors) {
  RunResult r = two_group_run();
  r.assertions.push_back(AssertionResult{"error_rate < 1%", 0.083, false});
  std::string md = summary_markdown(r, {"measured 8.3%, required < 1%"});
  EXPECT_NE(md.find("❌ FAIL"), std::string::npos) << md;
  EXPECT_NE(md.find("`error_rate < 1%`"), std::string::npos);
  EXPECT_NE(md.find("| http_429 | 10 | 429 Too Many Requests |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 120 | 110 | 10 |"), std::string::npos) << md;
}

}  // namespace
}  // namespace llmload::analysis
