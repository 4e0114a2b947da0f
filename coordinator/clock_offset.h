// Estimates a worker's clock offset from PING/PONG round trips (NTP's method, best sample):
// the coordinator sends at t0 (its clock), the worker answers at t1 (its clock), the answer
// arrives at t2 (coordinator clock). offset = t1 − (t0 + t2) / 2, error at most rtt / 2; the
// sample with the smallest round trip wins. worker_time = coordinator_time + offset().
#pragma once

#include <cstdint>
#include <limits>

namespace llmload::coord {

class ClockOffset {
 public:
  // Ignores impossible samples (t2 < t0).
  void add_sample(int64_t t0, int64_t t1, int64_t t2) {
    if (t2 < t0) return;
    const int64_t rtt = t2 - t0;
    ++samples_;
    if (rtt < best_rtt_) {
      best_rtt_ = rtt;
      offset_ = t1 - (t0 + rtt / 2);
    }
  }
  bool known() const { return samples_ > 0; }
  int samples() const { return samples_; }
  int64_t offset_ns() const { return offset_; }  // 0 until known
  int64_t best_rtt_ns() const { return samples_ ? best_rtt_ : 0; }
  int64_t to_worker(int64_t coordinator_ns) const { return coordinator_ns + offset_; }
  int64_t to_coordinator(int64_t worker_ns) const { return worker_ns - offset_; }

 private:
  int samples_ = 0;
  int64_t best_rtt_ = std::numeric_limits<int64_t>::max();
  int64_t offset_ = 0;
};

}  // namespace llmload::coord
