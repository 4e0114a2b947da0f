// Emission lateness of one loop (actual minus intended send time), in fixed buckets: 10 us
// steps to 2 ms, 1 ms steps to 1 s, then one overflow bucket. One writer (the loop's thread);
// relaxed atomics so another thread may read a snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace llmload::mock {

class Lateness {
 public:
  static constexpr int kFine = 200;    // 0 .. 2 ms in 10 us
  static constexpr int kCoarse = 998;  // 2 ms .. 1 s in 1 ms
  static constexpr int kBuckets = kFine + kCoarse + 1;

  void record(int64_t late_ns) {
    if (late_ns < 0) late_ns = 0;
    int64_t us = late_ns / 1000;
    int b;
    if (us < 2000)
      b = int(us / 10);
    else if (us < 1'000'000)
      b = kFine + int((us - 2000) / 1000);
    else
      b = kBuckets - 1;
    bump(buckets_[size_t(b)]);
    bump(count_);
    if (uint64_t(us) > max_us_.load(std::memory_order_relaxed))
      max_us_.store(uint64_t(us), std::memory_order_relaxed);
  }
  // Upper edge of bucket b in microseconds.
  static double upper_us(int b) {
    if (b < kFine) return double(b + 1) * 10;
    if (b < kBuckets - 1) return 2000.0 + double(b - kFine + 1) * 1000;
    return 1e9;
  }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t max_us() const { return max_us_.load(std::memory_order_relaxed); }
  uint64_t bucket(int b) const { return buckets_[size_t(b)].load(std::memory_order_relaxed); }

 private:
  static void bump(std::atomic<uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> max_us_{0};
};

}  // namespace llmload::mock
