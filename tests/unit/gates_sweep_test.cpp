#include <gtest/gtest.h>

#include <algorithm>

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

// A passing step with the given goodput, output tokens and requests per second (10 s measured).
SweepStep rated_step(double level, double goodput, double tokens, double requests,
                     int exit_code = 0) {
  SweepStep s;
  s.level = level;
  s.exit_code = exit_code;
  s.result.run.duration_s = 10;
  Counters& c = s.result.total.counters;
  c.goodput = int64_t(goodput * 10);
  c.output_tokens = int64_t(tokens * 10);
  c.requests = c.ok = int64_t(requests * 10);
  return s;
}

SweepOutcome outcome_of(std::vector<SweepStep> steps) {
  SweepOutcome o;
  o.steps = std::move(steps);
  choose_answer(o);
  return o;
}

// The llama.cpp case of issue 18: 2 and 4 both meet every SLO, 2 gives more.
TEST(SweepAnswer, IsThePassingLevelWithTheMostGoodputNotTheHighest) {
  SweepOutcome o = outcome_of({rated_step(1, 2.0, 40, 2.0), rated_step(2, 3.0, 61.5, 3.0),
                               rated_step(4, 2.6, 51.9, 2.6), rated_step(8, 1.0, 20, 1.0, 3)});
  ASSERT_TRUE(o.best);
  EXPECT_EQ(o.steps[*o.best].level, 2);
  ASSERT_TRUE(o.highest_passing);
  EXPECT_EQ(o.steps[*o.highest_passing].level, 4);
  ASSERT_EQ(o.passing_above_best.size(), 1u);
  EXPECT_EQ(o.steps[o.passing_above_best[0]].level, 4);
  std::string table = sweep_table(o, true);
  EXPECT_NE(table.find("answer: concurrency 2 is the capacity: the most goodput of the levels "
                       "meeting every SLO (goodput 3.00 req/s, 61.5 output tok/s, 3.00 req/s)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("  concurrency 4 also meets every SLO but gives less (goodput 2.60 req/s, "
                       "51.9 output tok/s"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("highest passing level: concurrency 4 (not the capacity)"),
            std::string::npos)
      << table;
  // A failing level is never the answer, however much it did.
  SweepOutcome f = outcome_of({rated_step(1, 1.0, 10, 1.0), rated_step(2, 9.0, 90, 9.0, 3)});
  EXPECT_EQ(f.steps[*f.best].level, 1);
  EXPECT_TRUE(f.passing_above_best.empty());
}

TEST(SweepAnswer, TiesGoToMoreThroughputThenTheLowerLevel) {
  // Same goodput: more output tokens/s wins, even at a higher level.
  SweepOutcome t = outcome_of({rated_step(2, 3.0, 50, 3.0), rated_step(4, 3.0, 60, 3.0)});
  EXPECT_EQ(t.steps[*t.best].level, 4);
  EXPECT_TRUE(t.passing_above_best.empty());
  // Same goodput and tokens: more requests/s.
  SweepOutcome r = outcome_of({rated_step(4, 3.0, 60, 3.5), rated_step(2, 3.0, 60, 3.0)});
  EXPECT_EQ(r.steps[*r.best].level, 4);
  // All equal: the lower level (the same work for less load), in any order they ran.
  SweepOutcome l = outcome_of({rated_step(8, 3.0, 60, 3.0), rated_step(4, 3.0, 60, 3.0)});
  EXPECT_EQ(l.steps[*l.best].level, 4);
  ASSERT_EQ(l.passing_above_best.size(), 1u);
  EXPECT_EQ(l.steps[l.passing_above_best[0]].level, 8);
  EXPECT_NE(sweep_table(l, true).find("highest passing level: concurrency 8 (not the capacity)"),
            std::string::npos);
}

TEST(SweepAnswer, SaturationAndHighestPassingAreSeparateFactsInTableAndCsv) {
  // fake_step: throughput flat past 12 while TTFT climbs; the SLO holds up to 16 here.
  std::vector<SweepStep> steps;
  for (double level : {4, 8, 12, 16}) {
    SweepStep s = fake_step(level, 12);
    s.level = level;
    s.exit_code = 0;
    steps.push_back(s);
  }
  SweepOutcome o = outcome_of(steps);
  ASSERT_TRUE(o.saturated_at);
  EXPECT_EQ(*o.saturated_at, 12);
  // 12 and 16 have the same throughput (goodput 0 without per-request SLOs, same tokens and
  // requests): the lower wins.
  EXPECT_EQ(o.steps[*o.best].level, 12);
  EXPECT_EQ(o.steps[*o.highest_passing].level, 16);
  std::string table = sweep_table(o, true);
  EXPECT_NE(table.find("answer: concurrency 12 is the capacity"), std::string::npos) << table;
  EXPECT_NE(table.find("saturation (knee): throughput flat while TTFT climbs beyond "
                       "concurrency 12"),
            std::string::npos)
      << table;
  std::string csv = sweep_csv(o, true);
  EXPECT_NE(csv.find(",workers_asked,workers,workers_lost,role,results\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",,0,,capacity saturation,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",,0,,highest_passing,"), std::string::npos) << csv;
}

TEST(SweepAnswer, LostWorkersAndShortHandedStepsAreNamedPerStep) {
  auto worker = [](const std::string& id, bool lost) {
    WorkerInfo w;
    w.id = id;
    w.status = lost ? WorkerStatus::kLost : WorkerStatus::kOk;
    return w;
  };
  SweepStep a = rated_step(2, 2, 20, 2), b = rated_step(4, 3, 30, 3, 5),
            c = rated_step(8, 4, 40, 4);
  for (SweepStep* s : {&a, &b, &c}) s->workers_asked = 2;
  a.result.run.workers = {worker("w1", false), worker("w2", false)};
  b.result.run.workers = {worker("w1", false), worker("w2", true)};
  c.result.run.workers = {worker("w1", false)};
  SweepOutcome o = outcome_of({a, b, c});
  EXPECT_EQ(o.steps[*o.best].level, 8);
  std::vector<std::string> lines = sweep_answer_lines(o, true);
  auto has = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  EXPECT_TRUE(has("step 2 (concurrency 4): partial: lost worker w2"));
  EXPECT_TRUE(has("step 3 (concurrency 8): ran on 1 of 2 worker(s) asked for"));
  EXPECT_FALSE(has("step 1 (concurrency 2): ran on 2 of 2 worker(s) asked for"));
  std::string csv = sweep_csv(o, true);
  EXPECT_NE(csv.find(",2,2,w2,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",2,1,,capacity highest_passing,"), std::string::npos) << csv;
  auto back = parse_sweep_csv(csv, "sweep.csv");
  ASSERT_TRUE(back) << back.error();
  ASSERT_EQ(back->rows.size(), 3u);
  EXPECT_EQ(back->rows[2].workers_asked, 2);
  // Read back from a sweep directory the steps come by level: the number is the directory's.
  o.steps[1].out_dir = "sweep/step-05-c4";
  lines = sweep_answer_lines(o, true);
  EXPECT_TRUE(has("step 5 (concurrency 4): partial: lost worker w2"));
}

TEST(SweepAnswer, CancelledBeforeAStepRunsNoMoreSteps) {
  SweepPlan plan;
  plan.levels = {1, 2, 4};
  int ran = 0;
  SweepOutcome o = run_sweep(
      plan,
      [&](double level) {
        ++ran;
        return fake_step(level, 10);
      },
      [&] { return ran >= 2; });
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(o.steps.size(), 2u);
  EXPECT_TRUE(o.stopped);
  SweepPlan search;
  search.search = true;
  ran = 0;
  SweepOutcome s = run_sweep(
      search,
      [&](double level) {
        ++ran;
        return fake_step(level, 100);
      },
      [&] { return ran >= 3; });
  EXPECT_EQ(s.steps.size(), 3u);
  EXPECT_TRUE(s.stopped);
}

}  // namespace
}  // namespace llmload::analysis
