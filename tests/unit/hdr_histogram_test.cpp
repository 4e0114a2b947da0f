// The HdrHistogram algorithm: layout, recording, exact-quantile accuracy, merge, iteration.
#include "common/hdr_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

namespace llmload {
namespace {

TEST(HdrHistogram, ForMicrosHasTheContractSettings) {
  HdrHistogram h = HdrHistogram::for_micros();
  EXPECT_EQ(h.lowest_discernible(), 1);
  EXPECT_EQ(h.highest_trackable(), 3'600'000'000);
  EXPECT_EQ(h.significant_digits(), 3);
  EXPECT_TRUE(h.record(3'600'000'000));
  EXPECT_FALSE(h.record(3'600'000'001));
  EXPECT_EQ(h.overflow_count(), 1);
  EXPECT_EQ(h.total_count(), 1);
}

TEST(HdrHistogram, RefusesBadSettings) {
  EXPECT_THROW(HdrHistogram(0, 1000, 3), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(100, 150, 3), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(1, 1000, 0), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(1, 1000, 6), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(int64_t{1} << 60, INT64_MAX, 5), std::invalid_argument);
  EXPECT_NO_THROW(HdrHistogram(1, INT64_MAX, 5));
  EXPECT_NO_THROW(HdrHistogram(1, 2, 1));
}

TEST(HdrHistogram, EquivalentValueRangesMatchTheReference) {
  // Figures from the reference's documented behaviour for (1, 3600000000, 3):
  // unit resolution up to 2047, then buckets double in width.
  HdrHistogram h(1, 3'600'000'000, 3);
  EXPECT_EQ(h.lowest_equivalent(2047), 2047);
  EXPECT_EQ(h.highest_equivalent(2047), 2047);
  EXPECT_EQ(h.lowest_equivalent(2049), 2048);
  EXPECT_EQ(h.highest_equivalent(2048), 2049);
  EXPECT_EQ(h.lowest_equivalent(10007), 10000);
  EXPECT_EQ(h.highest_equivalent(10007), 10007);
  EXPECT_EQ(h.median_equivalent(10001), 10004);
  EXPECT_TRUE(h.values_equivalent(10000, 10007));
  EXPECT_FALSE(h.values_equivalent(10007, 10008));
  // Unit magnitude > 0: lowest discernible 1000 gives a unit of 512: 0..511 share one slot.
  HdrHistogram coarse(1000, 3'600'000'000, 2);
  EXPECT_EQ(coarse.lowest_equivalent(511), 0);
  EXPECT_EQ(coarse.highest_equivalent(5), 511);
  EXPECT_EQ(coarse.lowest_equivalent(1023), 512);
}

TEST(HdrHistogram, EmptyHistogramReportsZeros) {
  HdrHistogram h = HdrHistogram::for_micros();
  EXPECT_EQ(h.total_count(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.stddev(), 0.0);
  EXPECT_EQ(h.value_at_percentile(50), 0);
  EXPECT_TRUE(h.percentiles().empty());
  EXPECT_TRUE(h.recorded_buckets().empty());
}

TEST(HdrHistogram, RecordsAndReportsBasicStatistics) {
  HdrHistogram h = HdrHistogram::for_micros();
  EXPECT_TRUE(h.record(1000, 3));
  EXPECT_TRUE(h.record(100'000));
  EXPECT_TRUE(h.record(0));
  EXPECT_FALSE(h.record(-1));
  EXPECT_FALSE(h.record(10, -2));
  EXPECT_EQ(h.total_count(), 5);
  EXPECT_EQ(h.overflow_count(), 1);
  EXPECT_EQ(h.count_at_value(1000), 3);
  EXPECT_EQ(h.count_at_value(100'000), 1);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), h.highest_equivalent(100'000));
  EXPECT_EQ(h.max(), 100'031);
  double mean = (3 * 1000.0 + h.median_equivalent(100'000) + 0) / 5;
  EXPECT_DOUBLE_EQ(h.mean(), mean);
  EXPECT_EQ(h.value_at_percentile(0), 0);
  EXPECT_EQ(h.value_at_percentile(20), 0);
  EXPECT_EQ(h.value_at_percentile(21), 1000);
  EXPECT_EQ(h.value_at_percentile(80), 1000);
  EXPECT_EQ(h.value_at_percentile(80.1), 100'031);
  EXPECT_EQ(h.value_at_percentile(100), 100'031);
  EXPECT_EQ(h.value_at_percentile(250), 100'031);
  EXPECT_EQ(h.value_at_percentile(-5), 0);
  std::vector<HdrHistogram::Bucket> buckets = h.recorded_buckets();
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[1].value, 1000);
  EXPECT_EQ(buckets[1].count, 3);
  h.reset();
  EXPECT_EQ(h.total_count(), 0);
  EXPECT_EQ(h.overflow_count(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.count_at_value(1000), 0);
}

TEST(HdrHistogram, PercentileRankUsesCeilingAsTheReference) {
  HdrHistogram h = HdrHistogram::for_micros();
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(50), 50);
  EXPECT_EQ(h.value_at_percentile(50.5), 51);
  EXPECT_EQ(h.value_at_percentile(99), 99);
  EXPECT_EQ(h.value_at_percentile(99.9), 100);
  EXPECT_EQ(h.value_at_percentile(1), 1);
  EXPECT_EQ(h.value_at_percentile(0.5), 1);
  EXPECT_EQ(h.value_at_percentile(std::nan("")), 1);
}

TEST(HdrHistogram, CorrectedRecordingBackFillsLikeTheReference) {
  // Reference: recordValueWithExpectedInterval(v, i) records v, v-i, v-2i, ... while >= i.
  HdrHistogram fast = HdrHistogram::for_micros();
  HdrHistogram slow = HdrHistogram::for_micros();
  for (int64_t value : {int64_t{10}, int64_t{1000}, int64_t{123'456}, int64_t{3'000'000}}) {
    for (int64_t interval : {int64_t{1}, int64_t{7}, int64_t{100}, int64_t{5000}}) {
      if (value / interval > 500'000) continue;
      ASSERT_TRUE(fast.record_corrected(value, interval));
      slow.record(value);
      for (int64_t m = value - interval; m >= interval; m -= interval) slow.record(m);
    }
  }
  EXPECT_TRUE(fast == slow);
  EXPECT_EQ(fast.min(), slow.min());
  EXPECT_EQ(fast.max(), slow.max());
  HdrHistogram one = HdrHistogram::for_micros();
  EXPECT_TRUE(one.record_corrected(500, 0));
  EXPECT_EQ(one.total_count(), 1);
  // A 1 h stall at 1 µs expected interval is 3.6e9 back-filled samples, in bounded time.
  EXPECT_TRUE(one.record_corrected(3'600'000'000, 1));
  EXPECT_EQ(one.total_count(), 1 + 3'600'000'000);
}

struct Distribution {
  const char* name;
  std::vector<int64_t> values;
};

std::vector<Distribution> distributions() {
  constexpr int kN = 1'000'000;
  std::mt19937_64 rng(20261123);
  std::vector<Distribution> out;
  Distribution uniform{"uniform", {}};
  std::uniform_int_distribution<int64_t> u(1, 2'000'000);
  for (int i = 0; i < kN; ++i) uniform.values.push_back(u(rng));
  out.push_back(std::move(uniform));
  Distribution lognormal{"lognormal", {}};
  std::lognormal_distribution<double> ln(std::log(50'000.0), 1.2);
  for (int i = 0; i < kN; ++i)
    lognormal.values.push_back(std::clamp<int64_t>(std::llround(ln(rng)), 1, 3'600'000'000));
  out.push_back(std::move(lognormal));
  Distribution bimodal{"bimodal", {}};
  std::normal_distribution<double> fast(20'000, 2'000), slow(800'000, 150'000);
  std::bernoulli_distribution pick_slow(0.1);
  for (int i = 0; i < kN; ++i) {
    double v = pick_slow(rng) ? slow(rng) : fast(rng);
    bimodal.values.push_back(std::max<int64_t>(1, std::llround(v)));
  }
  out.push_back(std::move(bimodal));
  return out;
}

TEST(HdrHistogram, PercentilesMatchExactQuantilesWithinPrecision) {
  for (Distribution& d : distributions()) {
    SCOPED_TRACE(d.name);
    HdrHistogram h = HdrHistogram::for_micros();
    for (int64_t v : d.values) ASSERT_TRUE(h.record(v));
    std::sort(d.values.begin(), d.values.end());
    const double n = static_cast<double>(d.values.size());
    ASSERT_EQ(h.total_count(), static_cast<int64_t>(d.values.size()));
    EXPECT_EQ(h.min(), d.values.front());  // unit resolution below 2048
    EXPECT_EQ(h.max(), h.highest_equivalent(d.values.back()));
    for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
      SCOPED_TRACE(p);
      // The exact rank ceil(p/100 * n) in integer arithmetic (p has at most 2 decimals here).
      int64_t p_hundredths = std::llround(p * 100);
      int64_t total = static_cast<int64_t>(d.values.size());
      size_t rank =
          static_cast<size_t>(std::max<int64_t>(1, (p_hundredths * total + 10'000 - 1) / 10'000));
      int64_t exact = d.values[rank - 1];
      int64_t got = h.value_at_percentile(p);
      // Same bucket as the exact quantile, reported as the bucket's highest value...
      EXPECT_EQ(got, h.highest_equivalent(exact));
      // ...hence within the promised precision: at most value / 10^3 above it.
      EXPECT_GE(got, exact);
      EXPECT_LE(static_cast<double>(got - exact), static_cast<double>(exact) / 1000.0);
    }
    double exact_mean = 0;
    for (int64_t v : d.values) exact_mean += static_cast<double>(v);
    exact_mean /= n;
    EXPECT_NEAR(h.mean(), exact_mean, exact_mean / 1000.0);
    double var = 0;
    for (int64_t v : d.values) var += (v - exact_mean) * (v - exact_mean);
    double exact_stddev = std::sqrt(var / n);
    EXPECT_NEAR(h.stddev(), exact_stddev, exact_stddev / 500.0);
  }
}

HdrHistogram filled(int64_t lowest, int64_t highest, int digits, uint64_t seed, int n) {
  HdrHistogram h(lowest, highest, digits);
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> ln(std::log(30'000.0), 1.5);
  for (int i = 0; i < n; ++i) h.record(std::llround(ln(rng)));
  return h;
}

TEST(HdrHistogram, AddEqualsRecordingEverythingInOne) {
  HdrHistogram a = filled(1, 3'600'000'000, 3, 1, 50'000);
  HdrHistogram b = filled(1, 3'600'000'000, 3, 2, 70'000);
  HdrHistogram both = HdrHistogram::for_micros();
  std::mt19937_64 r1(1), r2(2);
  std::lognormal_distribution<double> ln(std::log(30'000.0), 1.5);
  for (int i = 0; i < 50'000; ++i) both.record(std::llround(ln(r1)));
  ln.reset();
  for (int i = 0; i < 70'000; ++i) both.record(std::llround(ln(r2)));
  HdrHistogram ab = a, ba = b;
  EXPECT_TRUE(ab.add(b));
  EXPECT_TRUE(ba.add(a));
  EXPECT_TRUE(ab == ba);
  EXPECT_TRUE(ab == both);
  EXPECT_EQ(ab.min(), both.min());
  EXPECT_EQ(ab.max(), both.max());
  for (double p : {50.0, 99.0, 99.9})
    EXPECT_EQ(ab.value_at_percentile(p), both.value_at_percentile(p));
}

TEST(HdrHistogram, AddAcrossDifferentSettings) {
  // A finer histogram into a coarser one: every value lands in the bucket holding its
  // lowest equivalent; in either order the totals agree and nothing is lost.
  HdrHistogram fine = filled(1, 3'600'000'000, 4, 3, 20'000);
  HdrHistogram coarse = filled(10, 100'000'000, 2, 4, 20'000);
  HdrHistogram into_coarse = coarse;
  EXPECT_TRUE(into_coarse.add(fine));
  EXPECT_EQ(into_coarse.total_count(), 40'000);
  HdrHistogram into_fine = fine;
  EXPECT_TRUE(into_fine.add(coarse));
  EXPECT_EQ(into_fine.total_count(), 40'000);
  // Both agree on the percentiles within the coarser precision (2 digits: 1%).
  for (double p : {50.0, 90.0, 99.0}) {
    double x = static_cast<double>(into_coarse.value_at_percentile(p));
    double y = static_cast<double>(into_fine.value_at_percentile(p));
    EXPECT_NEAR(x, y, std::max(x, y) * 0.02) << p;
  }
  // Values beyond the receiver's range are counted as overflow, never dropped.
  HdrHistogram narrow(1, 10'000, 3);
  HdrHistogram wide = HdrHistogram::for_micros();
  wide.record(500, 2);
  wide.record(50'000, 3);
  EXPECT_FALSE(narrow.add(wide));
  EXPECT_EQ(narrow.total_count(), 2);
  EXPECT_EQ(narrow.overflow_count(), 3);
  EXPECT_EQ(narrow.max(), 500);
  HdrHistogram narrow_same_structure(1, 10'000, 3);
  HdrHistogram wide_same_structure(1, 1'000'000, 3);
  wide_same_structure.record(700);
  wide_same_structure.record(900'000, 4);
  EXPECT_FALSE(narrow_same_structure.add(wide_same_structure));
  EXPECT_EQ(narrow_same_structure.total_count(), 1);
  EXPECT_EQ(narrow_same_structure.overflow_count(), 4);
  EXPECT_EQ(narrow_same_structure.max(), 700);
  // Overflow already counted in the source carries over.
  HdrHistogram sum = HdrHistogram::for_micros();
  EXPECT_FALSE(sum.add(narrow));
  EXPECT_EQ(sum.overflow_count(), 3);
}

TEST(HdrHistogram, PercentileIterationFollowsTheReferenceTicks) {
  HdrHistogram h = HdrHistogram::for_micros();
  for (int v = 1; v <= 10'000; ++v) h.record(v);
  std::vector<HdrHistogram::PercentilePoint> pts = h.percentiles(5);
  ASSERT_GE(pts.size(), 10u);
  EXPECT_EQ(pts.front().percentile, 0.0);
  EXPECT_EQ(pts.front().value, 1);
  EXPECT_EQ(pts.back().percentile, 100.0);
  EXPECT_EQ(pts.back().value, h.max());
  EXPECT_EQ(pts.back().cumulative_count, 10'000);
  // The first half is walked in 5 ticks of 10%, then 5 ticks of 5% to 75%, ...
  EXPECT_DOUBLE_EQ(pts[1].percentile, 10.0);
  EXPECT_DOUBLE_EQ(pts[5].percentile, 50.0);
  EXPECT_DOUBLE_EQ(pts[6].percentile, 55.0);
  EXPECT_DOUBLE_EQ(pts[10].percentile, 75.0);
  EXPECT_DOUBLE_EQ(pts[11].percentile, 77.5);
  for (size_t i = 1; i < pts.size(); ++i) {
    EXPECT_GE(pts[i].percentile, pts[i - 1].percentile);
    EXPECT_GE(pts[i].value, pts[i - 1].value);
    if (pts[i].percentile < 100.0) {
      EXPECT_EQ(pts[i].value, h.value_at_percentile(pts[i].percentile)) << pts[i].percentile;
    }
  }
}

}  // namespace
}  // namespace llmload

namespace llmload {
namespace {

TEST(HdrHistogram, PercentileIterationEndsEvenWithAstronomicalCounts) {
  // 100 * cumulative / total rounds to 100.0 long before the last count: the reference's
  // level stops moving in floating point there and its iterator never ends; ours does.
  HdrHistogram h = HdrHistogram::for_micros();
  h.record(1, INT64_MAX / 2);
  h.record(5);
  h.record(7);
  std::vector<HdrHistogram::PercentilePoint> pts = h.percentiles(5);
  ASSERT_FALSE(pts.empty());
  EXPECT_LT(pts.size(), 2'000u);
  EXPECT_EQ(pts.back().percentile, 100.0);
  EXPECT_EQ(pts.back().value, 7);
  EXPECT_EQ(pts.back().cumulative_count, INT64_MAX / 2 + 2);
}

TEST(HdrHistogram, CountsNeverOverflowSilently) {
  HdrHistogram h = HdrHistogram::for_micros();
  EXPECT_TRUE(h.record(10, INT64_MAX - 1));
  EXPECT_FALSE(h.record(10, 2));  // would pass 2^63 - 1: refused
  EXPECT_EQ(h.total_count(), INT64_MAX - 1);
  HdrHistogram other = HdrHistogram::for_micros();
  other.record(20, 5);
  EXPECT_THROW(h.add(other), std::overflow_error);
  EXPECT_EQ(h.total_count(), INT64_MAX - 1);  // nothing added
}

}  // namespace
}  // namespace llmload
