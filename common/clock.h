// Time for measurement: one monotonic nanosecond clock (CLOCK_MONOTONIC, as uv_hrtime and
// std::chrono::steady_clock on Linux), never the loop's cached time. Taken through an interface
// where pacing and timeouts need a fake clock in tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace llmload {

// Nanoseconds on CLOCK_MONOTONIC.
inline int64_t mono_now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Nanoseconds since the Unix epoch (wall clock: only for timestamps in results, never for
// intervals).
inline int64_t wall_now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The wall clock's offset from the monotonic one (CLOCK_REALTIME − CLOCK_MONOTONIC, ns) as this
// thread last measured it: read back to back (monotonic, realtime, monotonic) and taken at the
// midpoint, re-measured when `mono_ns` is 100 ms or more past the last measurement (so a step or
// slew of the wall clock is followed within 100 ms). Converts the kernel's receive stamps
// (CLOCK_REALTIME) to the monotonic timeline, and monotonic instants to `*_unix_ns` fields.
int64_t realtime_offset_ns(int64_t mono_ns) noexcept;
inline int64_t mono_to_unix_ns(int64_t mono_ns) noexcept {
  return mono_ns + realtime_offset_ns(mono_ns);
}
// A wall-clock instant (e.g. a kernel receive stamp) on the monotonic timeline, with the same
// offset. The instant itself, less the offset last measured, stands for "now" in deciding
// whether to re-measure: a stamp of data just received is within a loop turn of now, so a
// stream of stamps needs no clock read of its own, and a stamp an hour off (the wall clock was
// stepped) forces a re-measurement at once.
int64_t unix_to_mono_ns(int64_t unix_ns) noexcept;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ns() const = 0;
};

class MonotonicClock final : public Clock {
 public:
  int64_t now_ns() const override { return mono_now_ns(); }
};

// The process's CLOCK_MONOTONIC clock, for whoever is given no other.
inline const Clock& monotonic_clock() {
  static const MonotonicClock clock;
  return clock;
}

// A clock that moves only when told. Safe to read on one thread while another sets it (a test
// drives a coordinator's run thread through its join, start and heartbeat deadlines this way).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 0) : now_(start_ns) {}
  int64_t now_ns() const override { return now_.load(std::memory_order_acquire); }
  void set(int64_t ns) { now_.store(ns, std::memory_order_release); }
  void advance(int64_t ns) { now_.fetch_add(ns, std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace llmload
