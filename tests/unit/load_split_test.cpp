#include "common/load_split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace llmload {
namespace {

int64_t sum(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t{0});
}

TEST(LoadSplit, IntegerSplitIsExactAndProportional) {
  EXPECT_EQ(split_integer(10, {1, 1, 1}), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(split_integer(10, {2, 1, 1}), (std::vector<int64_t>{5, 3, 2}));
  EXPECT_EQ(split_integer(2, {1, 1, 1}), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(split_integer(0, {4, 4}), (std::vector<int64_t>{0, 0}));
  for (int64_t total : {1, 7, 64, 1000, 99991}) {
    for (std::vector<int64_t> w : {std::vector<int64_t>{1}, {3, 5, 7}, {16, 16, 16, 16, 1}}) {
      auto parts = split_integer(total, w);
      EXPECT_EQ(sum(parts), total);
      int64_t wsum = sum(w);
      for (std::size_t i = 0; i < w.size(); ++i) {
        double exact = double(total) * double(w[i]) / double(wsum);
        EXPECT_LE(std::abs(double(parts[i]) - exact), 1.0);
      }
    }
  }
}

TEST(LoadSplit, RateSplitAddsUp) {
  auto r = split_rate(10.0, {1, 1, 2});
  EXPECT_DOUBLE_EQ(r[0], 2.5);
  EXPECT_DOUBLE_EQ(r[1], 2.5);
  EXPECT_DOUBLE_EQ(r[0] + r[1] + r[2], 10.0);
}

// Every loop of the run, in worker order.
std::vector<LoopShare> all_loops(const std::vector<LoadShare>& shares) {
  std::vector<LoopShare> out;
  for (const auto& s : shares) out.insert(out.end(), s.loops.begin(), s.loops.end());
  return out;
}

TEST(LoadSplit, ConcurrencyWithBudgetFollowsConcurrency) {
  Load load;
  load.mode = LoadMode::kConcurrency;
  load.concurrency = 2;
  load.requests = 100;
  auto shares = split_load(load, {4, 4, 4});
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].level() + shares[1].level() + shares[2].level(), 2);
  EXPECT_EQ(shares[2].level(), 0);
  EXPECT_EQ(shares[2].requests(), 0);  // no slot, so no budget it could never use
  EXPECT_EQ(shares[0].requests() + shares[1].requests(), 100);
  for (const auto& l : all_loops(shares)) {
    if (l.level == 0) {
      EXPECT_EQ(l.requests, 0);  // per loop too
    }
  }
  EXPECT_EQ(shares[1].index, 1);
  EXPECT_EQ(shares[1].count, 3);
  EXPECT_EQ(shares[1].loop_count, 12);
  EXPECT_NEAR(shares[0].fraction + shares[1].fraction + shares[2].fraction, 1.0, 1e-12);
}

TEST(LoadSplit, EveryLoopGetsItsPartOnceAndThePartsAddUp) {
  Load load;
  load.mode = LoadMode::kConcurrency;
  load.concurrency = 10;
  load.requests = 1001;
  load.warmup_ns = 7;
  load.duration_ns = 9;
  load.grace_ns = 11;
  load.think_time = Distribution::uniform(1e6, 2e6);
  auto shares = split_load(load, {1, 2, 4}, 42);
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].loops.size(), 1u);
  EXPECT_EQ(shares[2].loops.size(), 4u);
  const auto loops = all_loops(shares);
  int64_t users = 0, budget = 0;
  for (std::size_t g = 0; g < loops.size(); ++g) {
    EXPECT_EQ(loops[g].index, int(g));  // run-wide loop positions, in worker order
    EXPECT_GE(loops[g].level, 1);       // 10 over 7 loops: one or two each
    EXPECT_LE(loops[g].level, 2);
    users += int64_t(loops[g].level);
    budget += loops[g].requests;
    if (g > 0) {
      EXPECT_NE(loops[g].seed, loops[g - 1].seed);
    }
  }
  EXPECT_EQ(users, 10);
  EXPECT_EQ(budget, 1001);
  // The shape travels with every share: a worker needs nothing else to build its schedulers.
  for (const auto& s : shares) {
    EXPECT_EQ(s.warmup_ns, 7);
    EXPECT_EQ(s.duration_ns, 9);
    EXPECT_EQ(s.grace_ns, 11);
    EXPECT_TRUE(s.has_request_limit);
    EXPECT_EQ(s.think_time.kind, DistKind::kUniform);
  }
  // Seeds follow the scenario's seed.
  EXPECT_NE(split_load(load, {1}, 43)[0].loops[0].seed, split_load(load, {1}, 42)[0].loops[0].seed);
}

TEST(LoadSplit, StagesSplitPerStage) {
  Load load;
  load.mode = LoadMode::kConcurrency;
  load.concurrency = 0;
  load.stages = {{1'000'000'000, 10, 0}, {1'000'000'000, 3, 0}};
  auto shares = split_load(load, {1, 2});
  EXPECT_EQ(shares[0].stage_ns, (std::vector<int64_t>{1'000'000'000, 1'000'000'000}));
  double first = 0, second = 0;
  for (const auto& l : all_loops(shares)) {
    ASSERT_EQ(l.stage_levels.size(), 2u);
    first += l.stage_levels[0];
    second += l.stage_levels[1];
  }
  EXPECT_EQ(first, 10);
  EXPECT_EQ(second, 3);
}

TEST(LoadSplit, ConstantRateOffsetsSpaceArrivalsEvenlyOverAllLoops) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 100;  // 10 ms apart in all
  load.arrival = Arrival::kConstant;
  // Unequal workers: 1 + 3 loops. Each loop runs at R/4 = 25/s (40 ms apart), loop g's first
  // arrival at g/R = g·10 ms, so the merged arrivals are 10 ms apart whatever the weights.
  auto shares = split_load(load, {1, 3});
  std::vector<int64_t> arrivals;
  for (const auto& l : all_loops(shares)) {
    EXPECT_DOUBLE_EQ(l.level, 25.0);
    for (int j = 0; j < 5; ++j) {
      arrivals.push_back(l.first_arrival_offset_ns + int64_t(j * 1e9 / l.level));
    }
  }
  std::sort(arrivals.begin(), arrivals.end());
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    EXPECT_EQ(arrivals[i] - arrivals[i - 1], 10'000'000);
  }
  load.arrival = Arrival::kPoisson;
  for (const auto& l : all_loops(split_load(load, {1, 1}))) EXPECT_EQ(l.first_arrival_offset_ns, 0);
}

TEST(LoadSplit, MaxInFlightKeepsAtLeastOne) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 5;
  load.max_in_flight = 2;
  for (const auto& l : all_loops(split_load(load, {1, 1, 1}))) EXPECT_GE(l.max_in_flight, 1);
}

TEST(LoadSplit, LoopsNumberTheRunsRequestsInBlocks) {
  // Uneven budgets (concurrency 5 over 2 + 3 loops): each loop's block starts where the one
  // before ends, so the run's requests are numbered 0 .. requests-1 once (dataset entries).
  Load load;
  load.concurrency = 5;
  load.requests = 1001;
  const auto shares = split_load(load, {2, 3}, 3);
  int64_t next = 0;
  for (const LoadShare& s : shares) {
    EXPECT_EQ(s.run_requests, 1001);
    for (const LoopShare& l : s.loops) {
      EXPECT_EQ(l.first_request, next);
      next += l.requests;
    }
  }
  EXPECT_EQ(next, 1001);
  load.requests = 0;  // no limit: nothing to number
  for (const LoadShare& s : split_load(load, {2}, 3)) EXPECT_EQ(s.run_requests, 0);
}

TEST(LoadSplit, ShareJsonRoundTripAndChecks) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 7.5;
  load.requests = 11;
  load.stages = {{1, 0, 3.0}};
  load.think_time = Distribution::lognormal(5e6, 1e6);
  for (const auto& s : split_load(load, {2, 3}, 77)) {
    auto back = LoadShare::from_json(s.to_json());
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back.value(), s);
  }
  auto j = split_load(load, {1})[0].to_json();
  j["index"] = 5;
  auto bad = LoadShare::from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("share.index"), std::string::npos);
  j = split_load(load, {1})[0].to_json();
  j["loops"][0]["stage_levels"] = {-1.0};
  bad = LoadShare::from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("share.loops[0].stage_levels"), std::string::npos);
  j = split_load(load, {1})[0].to_json();
  j["loops"][0]["stage_levels"] = nlohmann::json::array();  // one level per stage, or refused
  EXPECT_FALSE(LoadShare::from_json(j).ok());
  j = split_load(load, {1})[0].to_json();
  j["think_time"]["kind"] = "zipf";
  bad = LoadShare::from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("share.think_time.kind"), std::string::npos);
  j = split_load(load, {1})[0].to_json();
  j["loops"] = nlohmann::json::array();
  EXPECT_FALSE(LoadShare::from_json(j).ok());
}

}  // namespace
}  // namespace llmload
