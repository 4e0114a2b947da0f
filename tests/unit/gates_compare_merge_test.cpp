#include <gtest/gtest.h>

#include <random>

#include "analysis/gates/compare.h"
#include "analysis/gates/merge.h"

namespace llmload::analysis {
namespace {

RunResult run_with_ttft(double mean_ms, int n, uint32_t seed) {
  RunResult r;
  r.run.duration_s = 10;
  GroupStats g(Labels{{"model", "m"}});
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(mean_ms, mean_ms / 10);
  for (int i = 0; i < n; ++i) {
    g.record(Metric::kTtft, int64_t(d(rng) * 1000));
    g.counters.requests++;
    g.counters.ok++;
  }
  r.groups.push_back(GroupResult{g, std::nullopt});
  recompute_total(r);
  return r;
}

const CompareRow* find(const std::vector<CompareRow>& rows, const std::string& metric,
                       const std::string& stat) {
  for (const CompareRow& r : rows)
    if (r.group == "total" && r.metric == metric && r.stat == stat) return &r;
  return nullptr;
}

TEST(Compare, SameDistributionIsWithinNoiseAShiftIsSignificant) {
  RunResult base = run_with_ttft(100, 5000, 1);
  RunResult same = run_with_ttft(100, 5000, 2);
  RunResult slower = run_with_ttft(130, 5000, 3);
  auto rows_same = compare_results(base, same);
  const CompareRow* p50 = find(rows_same, "ttft", "p50");
  ASSERT_TRUE(p50);
  EXPECT_FALSE(p50->significant);
  EXPECT_NEAR(*p50->change_pct, 0.0, 2.0);
  auto rows_slow = compare_results(base, slower);
  const CompareRow* p99 = find(rows_slow, "ttft", "p99");
  ASSERT_TRUE(p99);
  EXPECT_TRUE(p99->significant);
  EXPECT_NEAR(*p99->change_pct, 30.0, 5.0);
}

TEST(Compare, FewSamplesAreNoise) {
  RunResult base = run_with_ttft(100, 5, 1);
  RunResult cur = run_with_ttft(110, 5, 2);
  auto rows = compare_results(base, cur);
  const CompareRow* p99 = find(rows, "ttft", "p99");
  ASSERT_TRUE(p99);
  EXPECT_FALSE(p99->significant);
}

// Output tokens from another source than usage (chunks, the tokenizer) are shown as shares, so
// tokens/s of two runs are not compared blind; runs that both had usage show neither.
TEST(Compare, TokenSourceSharesAreShownWhenEitherRunCountedItself) {
  RunResult base = run_with_ttft(100, 100, 1);
  RunResult cur = run_with_ttft(100, 100, 2);
  base.groups[0].stats.counters.tokens_from_usage = 100;
  cur.groups[0].stats.counters.tokens_from_usage = 100;
  recompute_total(base);
  recompute_total(cur);
  auto rows = compare_results(base, cur);
  EXPECT_EQ(find(rows, "tokens_counted_share", ""), nullptr);
  EXPECT_EQ(find(rows, "tokens_tokenized_share", ""), nullptr);
  cur.groups[0].stats.counters.tokens_from_usage = 0;
  cur.groups[0].stats.counters.tokens_tokenized = 75;
  cur.groups[0].stats.counters.tokens_counted = 25;
  recompute_total(cur);
  rows = compare_results(base, cur);
  const CompareRow* t = find(rows, "tokens_tokenized_share", "");
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(*t->baseline, 0.0);
  EXPECT_DOUBLE_EQ(*t->current, 0.75);
  const CompareRow* k = find(rows, "tokens_counted_share", "");
  ASSERT_TRUE(k);
  EXPECT_DOUBLE_EQ(*k->current, 0.25);
}

TEST(FailOn, ParsesRelativeAndAbsoluteRules) {
  auto r = parse_fail_on("ttft.p99>+10%");
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(r->relative);
  EXPECT_DOUBLE_EQ(r->threshold, 10);
  EXPECT_EQ(r->variable.metric, "ttft");
  EXPECT_EQ(r->variable.stat, "p99");
  auto a = parse_fail_on("model=m: e2e.p50 >= +200ms");
  ASSERT_TRUE(a) << a.error();
  EXPECT_FALSE(a->relative);
  EXPECT_DOUBLE_EQ(a->threshold, 200);
  EXPECT_EQ(a->op, SloOp::kGe);
  ASSERT_TRUE(a->variable.group);
  EXPECT_EQ(a->variable.group->value, "m");
  auto t = parse_fail_on("output_tokens_per_s<-5%");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->op, SloOp::kLt);
  EXPECT_DOUBLE_EQ(t->threshold, -5);
  EXPECT_FALSE(parse_fail_on("ttft.p99 10%").ok());
  EXPECT_FALSE(parse_fail_on("ttft.p99>abc").ok());
  EXPECT_FALSE(parse_fail_on("bogus.p99>+1%").ok());
  EXPECT_FALSE(parse_fail_on("ttft.p99>+5parsecs").ok());
}

TEST(FailOn, FlagsARegressionAndPassesAnImprovement) {
  RunResult base = run_with_ttft(100, 2000, 1);
  RunResult slower = run_with_ttft(130, 2000, 2);
  auto rule = parse_fail_on("ttft.p99>+10%").value();
  FailOnOutcome bad = evaluate_fail_on(rule, base, slower);
  EXPECT_TRUE(bad.failed) << bad.message;
  FailOnOutcome good = evaluate_fail_on(rule, slower, base);
  EXPECT_FALSE(good.failed) << good.message;
  auto abs_rule = parse_fail_on("ttft.p50>+50ms").value();
  EXPECT_FALSE(evaluate_fail_on(abs_rule, base, slower).failed);
  auto tput = parse_fail_on("requests_per_s<-5%").value();
  EXPECT_FALSE(evaluate_fail_on(tput, base, slower).failed);
}

TEST(Merge, TwoRunsEqualOneHistogramHoldingBoth) {
  RunResult a = run_with_ttft(100, 3000, 1);
  RunResult b = run_with_ttft(200, 1000, 2);
  GroupStats both(Labels{{"model", "m"}});
  both.merge(a.groups[0].stats);
  both.merge(b.groups[0].stats);
  auto ab = merge_results({{"a", a}, {"b", b}}, {});
  auto ba = merge_results({{"b", b}, {"a", a}}, {});
  ASSERT_TRUE(ab && ba);
  ASSERT_EQ(ab->groups.size(), 1u);
  EXPECT_TRUE(ab->groups[0].stats == both);
  EXPECT_TRUE(ab->total == ba->total);
  EXPECT_EQ(ab->total.counters.requests, 4000);
  for (double p : {50.0, 90.0, 99.0, 99.9})
    EXPECT_EQ(ab->total.histogram(Metric::kTtft)->value_at_percentile(p),
              both.histogram(Metric::kTtft)->value_at_percentile(p));
  EXPECT_DOUBLE_EQ(ab->run.duration_s, 20);
  auto conc = merge_results({{"a", a}, {"b", b}}, {true});
  EXPECT_DOUBLE_EQ(conc->run.duration_s, 10);
}

TEST(Merge, ClientTimingAddsUpExactlyAndSaturationIsJudgedOnTheMerge) {
  RunResult a = run_with_ttft(100, 30, 1), b = run_with_ttft(200, 10, 2);
  ClientTiming& ta = a.run.client.timing;
  ta.token_reads = 100;
  ta.token_reads_kernel = 100;
  ta.timing_values = 300;
  ta.timing_uncertain = 3;
  ta.uncertain_window_us.record(4'000);
  for (int i = 0; i < 1000; ++i) ta.loop_lag_us.record(100);  // 0.1 ms
  a.run.client.judge();
  ClientTiming& tb = b.run.client.timing;
  tb.token_reads = 50;
  tb.timing_values = 100;
  tb.timing_uncertain = 17;
  for (int i = 0; i < 100; ++i) tb.uncertain_window_us.record(1'000);
  for (int i = 0; i < 30; ++i) tb.loop_lag_us.record(50'000);  // 50 ms: saturated alone
  b.run.client.cpu_busy = 0.5;
  b.run.client.judge();
  ASSERT_TRUE(b.run.client.saturated);

  auto m = merge_results({{"a", a}, {"b", b}}, {});
  ASSERT_TRUE(m) << m.error();
  const ClientHealth& c = m->run.client;
  EXPECT_EQ(c.timing.token_reads, 150);
  EXPECT_EQ(c.timing.token_reads_kernel, 100);
  EXPECT_EQ(c.timing.timestamps(), "mixed");
  EXPECT_DOUBLE_EQ(c.timing.uncertain_share(), 20.0 / 400.0);
  EXPECT_EQ(c.timing.uncertain_window_us.total_count(), 101);
  // The merged p99 is the p99 of every lag sample (1030 of them: 30 at 50 ms), not a max of p99s.
  HdrHistogram both = HdrHistogram::for_micros();
  both.add(ta.loop_lag_us);
  both.add(tb.loop_lag_us);
  EXPECT_DOUBLE_EQ(c.loop_lag_ms_p99, double(both.value_at_percentile(99)) / 1000.0);
  EXPECT_GT(c.loop_lag_ms_p99, 10.0);
  EXPECT_TRUE(c.saturated);
  EXPECT_DOUBLE_EQ(c.cpu_busy, 0.5);

  // Lag diluted below the threshold by a long healthy run: still saturated, as one input was.
  for (int i = 0; i < 100000; ++i) ta.loop_lag_us.record(100);
  auto diluted = merge_results({{"a", a}, {"b", b}}, {});
  EXPECT_LT(diluted->run.client.loop_lag_ms_p99, 10.0);
  EXPECT_TRUE(diluted->run.client.saturated);
  auto healthy = merge_results({{"a", a}, {"a2", a}}, {});
  EXPECT_FALSE(healthy->run.client.saturated);
}

TEST(Merge, ProvenanceListsEveryInputInMergeOrder) {
  RunResult a = run_with_ttft(100, 30, 1), b = run_with_ttft(200, 10, 2);
  a.run.id = "run-a";
  a.run.started_at = "2026-11-23T18:52:50.123Z";
  b.run.id = "run-b";
  b.run.status = RunStatus::kPartial;
  b.run.duration_s = 4;
  auto m = merge_results({{"b/summary.json", b}, {"a/summary.json", a}}, {});
  ASSERT_TRUE(m) << m.error();
  std::vector<MergeSource> want = {
      {"b/summary.json", "run-b", "", 4, RunStatus::kPartial, 10},
      {"a/summary.json", "run-a", "2026-11-23T18:52:50.123Z", 10, RunStatus::kCompleted, 30}};
  EXPECT_EQ(m->run.merged_from, want);
}

TEST(Merge, RefusesRunsThatMeasureTtftFromDifferentStarts) {
  RunResult a = run_with_ttft(100, 10, 1), b = run_with_ttft(100, 10, 2);
  a.run.scenario = {{"load", {{"mode", "rate"}}}};
  b.run.scenario = {{"load", {{"mode", "concurrency"}}}};
  auto m = merge_results({{"a.json", a}, {"b.json", b}}, {});
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("b.json"), std::string::npos) << m.error();
  EXPECT_NE(m.error().find("intended"), std::string::npos) << m.error();
}

TEST(Merge, HlogIntervalsAreUnitedInTimeOrder) {
  HdrLog x, y;
  for (int i = 0; i < 3; ++i) {
    HdrHistogram h = HdrHistogram::for_micros();
    h.record(1000 * (i + 1));
    h.start_time_ms = 1'000'000 + i * 1000;
    h.end_time_ms = h.start_time_ms + 1000;
    h.tag = "ttft";
    (i % 2 ? y : x).intervals.push_back(h);
  }
  HdrLog m = merge_hdr_logs({y, x});
  ASSERT_EQ(m.intervals.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(m.intervals[i].max(), m.intervals[i].highest_equivalent(1000 * (i + 1)));
  auto text = hdr_log_text(m, "test");
  ASSERT_TRUE(text);
  auto back = parse_hdr_log(*text, "merged");
  ASSERT_TRUE(back) << back.error();
  ASSERT_EQ(back->intervals.size(), 3u);
  EXPECT_EQ(back->intervals[2].start_time_ms, 1'002'000);
}

}  // namespace
}  // namespace llmload::analysis
