#include <gtest/gtest.h>

#include "analysis/gates/sweep.h"

namespace llmload::analysis {
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

TEST(Sweep, CsvReadsBackTheLevelsExitCodesAndResultsOfEveryStep) {
  for (bool concurrency : {true, false}) {
    SweepOutcome o;
    const std::vector<double> levels = {8, 0.5, 2.5, 1000};  // ran out of order
    const std::vector<int> codes = {3, 0, 0, 5};
    for (size_t i = 0; i < levels.size(); ++i) {
      SweepStep s = fake_step(levels[i], 4);
      s.level = levels[i];
      s.exit_code = codes[i];
      s.out_dir = "out/step \"" + std::to_string(i) + "\", level";  // quoted in the CSV
      s.result.assertions.push_back({"ttft.p99 < 100ms", 50, codes[i] == 0});
      o.steps.push_back(s);
    }
    auto back = parse_sweep_csv(sweep_csv(o, concurrency), "sweep.csv");
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->concurrency, concurrency);
    // sweep.csv holds the steps by level.
    std::vector<SweepCsvRow> want = {{0.5, 0, "out/step \"1\", level"},
                                     {2.5, 0, "out/step \"2\", level"},
                                     {8, 3, "out/step \"0\", level"},
                                     {1000, 5, "out/step \"3\", level"}};
    EXPECT_EQ(back->rows, want);
  }
}

TEST(Sweep, CsvReaderNamesTheFileAndLineAtFault) {
  auto not_sweep = parse_sweep_csv("level,exit_code,results\n1,0,x\n", "s.csv");
  ASSERT_FALSE(not_sweep);
  EXPECT_NE(not_sweep.error().find("s.csv:1: the first column"), std::string::npos);
  auto no_results = parse_sweep_csv("rate,exit_code\n1,0\n", "s.csv");
  ASSERT_FALSE(no_results);
  EXPECT_NE(no_results.error().find("s.csv:1: no column 'results'"), std::string::npos);
  auto bad_level = parse_sweep_csv("rate,exit_code,results\n1,0,a\nfast,0,b\n", "s.csv");
  ASSERT_FALSE(bad_level);
  EXPECT_NE(bad_level.error().find("s.csv:3: level 'fast'"), std::string::npos);
}

}  // namespace
}  // namespace llmload::analysis
