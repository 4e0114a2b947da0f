#include "common/clock.h"

namespace llmload {
namespace {

constexpr int64_t kRefreshNs = 100'000'000;  // re-measure the offset every 100 ms of use

struct OffsetCache {
  int64_t measured_at = INT64_MIN / 2;  // monotonic ns of the last measurement
  int64_t offset = 0;
};

thread_local OffsetCache t_offset;

int64_t measure_offset(int64_t* at) noexcept {
  // The pair read closest together of three attempts: a preemption between the reads would
  // otherwise put its length into every converted stamp.
  int64_t best_span = INT64_MAX, best = 0, best_at = 0;
  for (int i = 0; i < 3; ++i) {
    const int64_t m0 = mono_now_ns();
    const int64_t w = wall_now_ns();
    const int64_t m1 = mono_now_ns();
    if (m1 - m0 < best_span) {
      best_span = m1 - m0;
      best_at = m0 + (m1 - m0) / 2;
      best = w - best_at;
    }
  }
  *at = best_at;
  return best;
}

}  // namespace

int64_t realtime_offset_ns(int64_t mono_ns) noexcept {
  OffsetCache& c = t_offset;
  if (mono_ns - c.measured_at >= kRefreshNs || mono_ns < c.measured_at - kRefreshNs)
    c.offset = measure_offset(&c.measured_at);
  return c.offset;
}

int64_t unix_to_mono_ns(int64_t unix_ns) noexcept {
  return unix_ns - realtime_offset_ns(unix_ns - t_offset.offset);
}

}  // namespace llmload
