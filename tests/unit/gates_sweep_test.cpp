#include <gtest/gtest.h>

#include "coordinator/gates/sweep.h"

namespace llmload {
namespace {

// A fake capacity curve: throughput grows with load up to `knee`, then stays flat while TTFT
// climbs; the SLO (exit 0) holds up to the knee.
SweepStep fake_step(double level, double knee) {
  SweepStep s;
  s.result.run.duration_s = 10;
  double tput = std::min(level, knee) * 10;
  GroupStats& g = s.result.total;
  g.counters.requests = g.counters.ok = int64_t(tput * 10);
  double ttft_ms = level <= knee ? 50 : 50 * level / knee;
  for (int i = 0; i < 100; ++i) g.record(Metric::kTtft, int64_t(ttft_ms * 1000));
  s.exit_code = level <= knee ? 0 : 3;
  return s;
}

TEST(Sweep, SearchFindsTheKneeByGrowingThenBisecting) {
  SweepPlan plan;
  plan.search = true;
  plan.min = 1;
  plan.max = 1024;
  std::vector<double> ran;
  SweepOutcome o = run_sweep(plan, [&](double level) {
    ran.push_back(level);
    return fake_step(level, 12);
  });
  ASSERT_TRUE(o.best);
  EXPECT_EQ(o.steps[*o.best].level, 12);
  EXPECT_EQ(ran, (std::vector<double>{1, 2, 4, 8, 16, 12, 14, 13}));
  EXPECT_FALSE(o.stopped);
  ASSERT_TRUE(o.saturated_at);
  EXPECT_EQ(*o.saturated_at, 12);
}

TEST(Sweep, RateSearchStopsAtThePrecision) {
  SweepPlan plan;
  plan.search = true;
  plan.concurrency = false;
  plan.min = 1;
  plan.max = 100;
  plan.precision = 0.05;
  SweepOutcome o = run_sweep(plan, [](double level) { return fake_step(level, 23.5); });
  ASSERT_TRUE(o.best);
  double best = o.steps[*o.best].level;
  EXPECT_LE(best, 23.5);
  EXPECT_GE(best, 23.5 * 0.95);
}

TEST(Sweep, ListModeRunsEveryLevelAndAStoppingStepEndsIt) {
  SweepPlan plan;
  plan.levels = {1, 8, 64};
  SweepOutcome o = run_sweep(plan, [](double level) { return fake_step(level, 10); });
  ASSERT_EQ(o.steps.size(), 3u);
  EXPECT_EQ(o.steps[*o.best].level, 8);
  SweepOutcome stopped = run_sweep(plan, [](double level) {
    SweepStep s = fake_step(level, 10);
    if (level == 8) s.exit_code = 2;  // pre-flight failed: no point going on
    return s;
  });
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.steps.size(), 2u);
}

TEST(Sweep, NothingPassesGivesNoAnswer) {
  SweepPlan plan;
  plan.search = true;
  SweepOutcome o = run_sweep(plan, [](double level) { return fake_step(level, 0.5); });
  EXPECT_FALSE(o.best);
  EXPECT_EQ(o.steps.size(), 1u);
  EXPECT_NE(sweep_table(o, true).find("no level met every SLO"), std::string::npos);
}

TEST(Sweep, CsvHasOneRowPerStepInLevelOrder) {
  SweepPlan plan;
  plan.levels = {8, 1, 4};
  SweepOutcome o = run_sweep(plan, [](double level) {
    SweepStep s = fake_step(level, 4);
    s.result.assertions.push_back({"ttft.p99 < 100ms", 50, level <= 4});
    return s;
  });
  std::string csv = sweep_csv(o, true);
  EXPECT_EQ(csv.rfind("concurrency,requests_per_s", 0), 0u);
  size_t r1 = csv.find("\n1,"), r4 = csv.find("\n4,"), r8 = csv.find("\n8,");
  ASSERT_NE(r1, std::string::npos);
  EXPECT_LT(r1, r4);
  EXPECT_LT(r4, r8);
  EXPECT_NE(csv.find("ttft.p99 < 100ms"), std::string::npos);
  EXPECT_NE(csv.find(",false,fail,"), std::string::npos) << csv;
  std::string table = sweep_table(o, true);
  EXPECT_NE(table.find("answer: concurrency 4"), std::string::npos) << table;
}

}  // namespace
}  // namespace llmload
