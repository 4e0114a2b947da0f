// LiveMerge: the coordinator's live merge of worker REPORTs, exact through the histograms.
#include "coordinator/live_merge.h"

#include <gtest/gtest.h>

using namespace llmload::coord;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

// One worker's interval: `n` requests of group `model`, TTFT values base, base+1, ...
IntervalSnapshot snapshot(int64_t seq, const std::string& model, int n, int64_t base) {
  IntervalSnapshot s;
  s.start_ns = (seq - 1) * 1'000'000'000;
  s.end_ns = seq * 1'000'000'000;
  GroupStats& g = s.group({{"model", model}});
  for (int i = 0; i < n; ++i) {
    g.record(Metric::kTtft, base + i);
    g.counters.requests++;
    g.counters.ok++;
  }
  return s;
}

TEST(LiveMerge, IntervalTotalAndGroupsAreTheExactMergeOfEveryWorker) {
  LiveMerge lm(2);
  ASSERT_TRUE(lm.add(0, 1, snapshot(1, "a", 100, 1'000), 0));
  ASSERT_TRUE(lm.add(1, 1, snapshot(1, "a", 50, 5'000), 0));
  IntervalSnapshot both = snapshot(1, "b", 10, 20'000);
  ASSERT_TRUE(lm.add(1, 2, both, 0));  // the const& form copies; `both` stays usable
  EXPECT_EQ(both.groups.size(), 1u);

  // What one process recording everything of interval 1 would hold.
  GroupStats one;
  for (int i = 0; i < 100; ++i) one.record(Metric::kTtft, 1'000 + i);
  for (int i = 0; i < 50; ++i) one.record(Metric::kTtft, 5'000 + i);

  auto ready = lm.take_through(1);
  ASSERT_EQ(ready.size(), 1u);
  const MergedInterval& iv = ready[0];
  EXPECT_EQ(iv.reporters, 2);
  EXPECT_EQ(iv.total.counters.requests, 150);
  ASSERT_NE(iv.total.histogram(Metric::kTtft), nullptr);
  ASSERT_EQ(iv.groups.size(), 1u);
  for (double p : {50.0, 90.0, 99.0, 100.0}) {
    const int64_t want = one.histogram(Metric::kTtft)->value_at_percentile(p);
    EXPECT_EQ(iv.total.histogram(Metric::kTtft)->value_at_percentile(p), want) << p;
    EXPECT_EQ(iv.groups.begin()->second.histogram(Metric::kTtft)->value_at_percentile(p), want)
        << p;
  }
  EXPECT_EQ(lm.oldest_pending(), 2);

  // The run's total holds both intervals, the pending one too; the cumulative groups know both
  // groups at once and hold an interval's counts once it is taken.
  EXPECT_EQ(lm.total().counters.requests, 160);
  ASSERT_EQ(lm.groups().size(), 2u);
  EXPECT_EQ(lm.groups().at(group_key({{"model", "a"}})).counters.requests, 150);
  EXPECT_EQ(lm.groups().at(group_key({{"model", "b"}})).counters.requests, 0);
  ASSERT_EQ(lm.take_through(2).size(), 1u);
  EXPECT_EQ(lm.groups().at(group_key({{"model", "b"}})).counters.requests, 10);
  EXPECT_EQ(lm.total().counters.requests, 160);
  // The workers' totals: their own requests, from every report at once.
  EXPECT_EQ(lm.worker_totals(0).requests, 100);
  EXPECT_EQ(lm.worker_totals(1).requests, 60);
}

TEST(LiveMerge, ClientTimingIsEveryReportsMergedAndADuplicateAddsNothing) {
  LiveMerge lm(2);
  IntervalSnapshot a = snapshot(1, "a", 1, 1'000);
  a.client.token_reads = 10;
  a.client.token_reads_kernel = 10;
  for (int i = 0; i < 99; ++i) a.client.loop_lag_us.record(100);
  IntervalSnapshot b = snapshot(1, "a", 1, 1'000);
  b.client.token_reads = 5;
  b.client.loop_lag_us.record(40'000);
  b.client.loop_lag_us.record(40'000);
  ASSERT_TRUE(lm.add(0, 1, a, 0));
  ASSERT_TRUE(lm.add(1, 1, b, 0));
  EXPECT_FALSE(lm.add(1, 1, b, 0));
  EXPECT_EQ(lm.client().token_reads, 15);
  EXPECT_EQ(lm.client().token_reads_kernel, 10);
  EXPECT_EQ(lm.client().loop_lag_us.total_count(), 101);
  // p99 of all 101 samples: rank 100 is one of the two 40 ms ones.
  EXPECT_TRUE(lm.client().loop_lag_us.values_equivalent(
      lm.client().loop_lag_us.value_at_percentile(99), 40'000));
}

TEST(LiveMerge, ADuplicateOrOlderSeqIsRefusedAndMergesNothing) {
  LiveMerge lm(1);
  ASSERT_TRUE(lm.add(0, 2, snapshot(2, "a", 5, 100), 0));
  EXPECT_FALSE(lm.add(0, 2, snapshot(2, "a", 5, 100), 0));
  EXPECT_FALSE(lm.add(0, 1, snapshot(1, "a", 5, 100), 0));
  EXPECT_EQ(lm.total().counters.requests, 5);
  EXPECT_EQ(lm.reports_merged(), 1);
}

}  // namespace
}  // namespace llmload
