// IntervalRecorder: a writer thread and a reader thread; every value lands in exactly one
// interval, and the intervals add up to recording everything in one histogram.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bench/interval_recorder.h"

namespace llmload {
namespace {

TEST(IntervalRecorder, TakeHandsOverAndStartsAFreshInterval) {
  IntervalRecorder rec(HdrHistogram::for_micros());
  rec.record(100);
  rec.record(200, 3);
  EXPECT_FALSE(rec.record(-5));
  HdrHistogram first = HdrHistogram::for_micros();
  first.record(999'999);  // previous contents of `into` are discarded
  rec.take_interval(first, 1000, 2000);
  EXPECT_EQ(first.total_count(), 4);
  EXPECT_EQ(first.overflow_count(), 1);
  EXPECT_EQ(first.count_at_value(200), 3);
  EXPECT_EQ(first.count_at_value(999'999), 0);
  EXPECT_EQ(first.start_time_ms, 1000);
  EXPECT_EQ(first.end_time_ms, 2000);

  rec.record(300);
  rec.record_corrected(5000, 1000);  // 5000, 4000, 3000, 2000, 1000
  HdrHistogram second = rec.take_interval_copy();
  EXPECT_EQ(second.total_count(), 6);
  EXPECT_EQ(second.count_at_value(100), 0);
  EXPECT_EQ(second.overflow_count(), 0);

  HdrHistogram third = rec.take_interval_copy();  // nothing recorded since
  EXPECT_EQ(third.total_count(), 0);
  // Into a histogram with other settings: replaced by one with the recorder's settings.
  rec.record(42);
  HdrHistogram other(1, 1000, 2);
  rec.take_interval(other);
  EXPECT_EQ(other.highest_trackable(), 3'600'000'000);
  EXPECT_EQ(other.total_count(), 1);
  // Many swaps in a row: the buffers alternate and stay clean.
  for (int i = 0; i < 10; ++i) {
    rec.record(i + 1);
    HdrHistogram h = rec.take_interval_copy();
    ASSERT_EQ(h.total_count(), 1);
    ASSERT_EQ(h.count_at_value(i + 1), 1);
  }
}

TEST(IntervalRecorder, NothingLostOrDoubledBetweenConcurrentIntervals) {
  constexpr int64_t kValues = 2'000'000;
  IntervalRecorder rec(HdrHistogram::for_micros());
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    for (int64_t i = 0; i < kValues; ++i) rec.record(1 + (i * 7919) % 5'000'000);
    writer_done.store(true);
  });
  HdrHistogram merged = HdrHistogram::for_micros();
  HdrHistogram interval = HdrHistogram::for_micros();
  int intervals = 0;
  int non_empty = 0;
  // Bounded: stops once the writer is done (or after 60 s, which fails the test).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!writer_done.load() && std::chrono::steady_clock::now() < deadline) {
    rec.take_interval(interval);
    ++intervals;
    if (interval.total_count() > 0) ++non_empty;
    merged.add(interval);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  writer.join();
  rec.take_interval(interval);  // the tail after the writer's last record
  merged.add(interval);
  ASSERT_TRUE(writer_done.load()) << "writer did not finish within 60 s";

  HdrHistogram direct = HdrHistogram::for_micros();
  for (int64_t i = 0; i < kValues; ++i) direct.record(1 + (i * 7919) % 5'000'000);
  EXPECT_EQ(merged.total_count(), kValues);
  EXPECT_TRUE(merged == direct);
  EXPECT_GT(intervals, 0);
  // Informational: how many swaps overlapped the writer.
  RecordProperty("intervals", intervals);
  RecordProperty("non_empty_intervals", non_empty);
}

}  // namespace
}  // namespace llmload
