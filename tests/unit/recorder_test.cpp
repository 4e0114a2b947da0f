// Recorder: phase gating, interval swaps with nothing lost or counted twice, the hand-off
// across threads, buffer reuse.
#include "worker/recorder.h"

#include <gtest/gtest.h>

#include <thread>

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

std::vector<Labels> two_groups() {
  return {Labels{{"target", "a"}, {"model", "m"}}, Labels{{"target", "b"}, {"model", "m"}}};
}

TEST(Recorder, UnmeasuredRequestsAreNeverRecorded) {
  Recorder r(two_groups(), false);
  EXPECT_EQ(r.group(false, 0), nullptr);
  GroupStats* g = r.group(true, 1);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->labels.at("target"), "b");
}

TEST(Recorder, SwapHandsOverTheIntervalAndStartsAnEmptyOne) {
  Recorder r(two_groups(), true);
  r.group(true, 0)->record_ns(Metric::kTtft, 5'000'000);
  r.group(true, 0)->counters.ok++;
  r.add_row(RequestRow{});
  r.swap(0, 100, 200, 3, 17, 0.25, false);
  // The new active buffer is empty.
  EXPECT_TRUE(r.active().groups[0].empty());
  EXPECT_TRUE(r.active().rows.empty());
  r.group(true, 1)->counters.ok++;
  r.swap(1, 200, 300, 0, 0, 0.0, true);

  LoopInterval* a = r.take();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->index, 0);
  EXPECT_EQ(a->in_flight, 3);
  EXPECT_EQ(a->lag_us_max, 17);
  EXPECT_EQ(a->groups[0].count(Metric::kTtft), 1);
  EXPECT_EQ(a->groups[0].counters.ok, 1);
  EXPECT_EQ(a->rows.size(), 1u);
  LoopInterval* b = r.take();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->index, 1);
  EXPECT_TRUE(b->last);
  EXPECT_EQ(b->groups[0].counters.ok, 0);
  EXPECT_EQ(b->groups[1].counters.ok, 1);
  EXPECT_EQ(r.take(), nullptr);
  r.give_back(a);
  EXPECT_TRUE(a->groups[0].empty());
  r.give_back(b);
}

TEST(Recorder, ConcurrentHandOffLosesNothing) {
  constexpr int kIntervals = 300;
  constexpr int kPerInterval = 50;
  Recorder r({Labels{{"target", "t"}}}, false);
  std::thread loop([&] {
    for (int i = 0; i < kIntervals; ++i) {
      for (int k = 0; k < kPerInterval; ++k) {
        GroupStats* g = r.group(true, 0);
        g->counters.requests++;
        g->counters.ok++;
        g->record(Metric::kOutputTokens, k + 1);
      }
      r.swap(i, i, i + 1, 0, 0, 0, i == kIntervals - 1);
    }
  });
  int64_t ok = 0, hist = 0, next_index = 0;
  bool last = false;
  for (int spins = 0; !last && spins < 50'000'000; ++spins) {
    LoopInterval* b = r.take();
    if (!b) {
      std::this_thread::yield();
      continue;
    }
    EXPECT_EQ(b->index, next_index++);
    ok += b->groups[0].counters.ok;
    hist += b->groups[0].count(Metric::kOutputTokens);
    last = b->last;
    r.give_back(b);
  }
  loop.join();
  r.loop_joined();
  while (LoopInterval* b = r.take()) {
    ok += b->groups[0].counters.ok;
    hist += b->groups[0].count(Metric::kOutputTokens);
    last = b->last;
  }
  EXPECT_TRUE(last);
  EXPECT_EQ(ok, int64_t(kIntervals) * kPerInterval);
  EXPECT_EQ(hist, int64_t(kIntervals) * kPerInterval);
}

TEST(Recorder, AStalledControlThreadLosesNothingEither) {
  Recorder r({Labels{{"target", "t"}}}, false);
  for (int i = 0; i < 200; ++i) {  // more than the ring holds
    r.group(true, 0)->counters.ok++;
    r.swap(i, 0, 0, 0, 0, 0, i == 199);
  }
  r.loop_joined();
  int64_t ok = 0, n = 0;
  while (LoopInterval* b = r.take()) {
    EXPECT_EQ(b->index, n++);
    ok += b->groups[0].counters.ok;
  }
  EXPECT_EQ(n, 200);
  EXPECT_EQ(ok, 200);
}

}  // namespace
}  // namespace llmload
