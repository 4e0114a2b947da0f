#include "common/load_split.h"

#include <gtest/gtest.h>

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

TEST(LoadSplit, ConcurrencyWithBudgetFollowsConcurrency) {
  Load load;
  load.mode = LoadMode::kConcurrency;
  load.concurrency = 2;
  load.requests = 100;
  auto shares = split_load(load, {4, 4, 4});
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].concurrency + shares[1].concurrency + shares[2].concurrency, 2);
  EXPECT_EQ(shares[2].concurrency, 0);
  EXPECT_EQ(shares[2].requests, 0);  // no slot, so no budget it could never use
  EXPECT_EQ(shares[0].requests + shares[1].requests, 100);
  EXPECT_EQ(shares[1].index, 1);
  EXPECT_EQ(shares[1].count, 3);
  EXPECT_NEAR(shares[0].fraction + shares[1].fraction + shares[2].fraction, 1.0, 1e-12);
}

TEST(LoadSplit, StagesSplitPerStage) {
  Load load;
  load.mode = LoadMode::kConcurrency;
  load.concurrency = 0;
  load.stages = {{1'000'000'000, 10, 0}, {1'000'000'000, 3, 0}};
  auto shares = split_load(load, {1, 2});
  EXPECT_EQ(shares[0].stage_concurrency.size(), 2u);
  EXPECT_EQ(shares[0].stage_concurrency[0] + shares[1].stage_concurrency[0], 10);
  EXPECT_EQ(shares[0].stage_concurrency[1] + shares[1].stage_concurrency[1], 3);
}

TEST(LoadSplit, ConstantRateOffsetsSpaceArrivalsEvenly) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 100;  // 10 ms apart in all
  load.arrival = Arrival::kConstant;
  auto shares = split_load(load, {1, 1, 1, 1});
  // Share k runs at R/n = 25/s (40 ms apart), first arrival k/R = k·10 ms.
  std::vector<int64_t> arrivals;
  for (const auto& s : shares) {
    EXPECT_DOUBLE_EQ(s.rate, 25.0);
    for (int j = 0; j < 5; ++j) {
      arrivals.push_back(s.first_arrival_offset_ns + int64_t(j * 1e9 / s.rate));
    }
  }
  std::sort(arrivals.begin(), arrivals.end());
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    EXPECT_EQ(arrivals[i] - arrivals[i - 1], 10'000'000);
  }
  load.arrival = Arrival::kPoisson;
  for (const auto& s : split_load(load, {1, 1})) EXPECT_EQ(s.first_arrival_offset_ns, 0);
}

TEST(LoadSplit, MaxInFlightKeepsAtLeastOne) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 5;
  load.max_in_flight = 2;
  auto shares = split_load(load, {1, 1, 1});
  for (const auto& s : shares) EXPECT_GE(s.max_in_flight, 1);
}

TEST(LoadSplit, ShareJsonRoundTripAndChecks) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 7.5;
  load.requests = 11;
  load.stages = {{1, 0, 3.0}};
  for (const auto& s : split_load(load, {2, 3})) {
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
  j["stage_rate"] = {-1.0};
  EXPECT_FALSE(LoadShare::from_json(j).ok());
}

}  // namespace
}  // namespace llmload
