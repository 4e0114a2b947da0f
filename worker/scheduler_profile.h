// LoadProfile: one loop's load level over time, piecewise linear — the concurrency (virtual
// users) or the rate (requests per second) a scheduler follows.
//
// Timeline (absolute CLOCK_MONOTONIC ns):
//   [start, window_start)            warmup: the level the first stage starts from (the initial
//                                    level), or the first stage's target when that is 0, so a
//                                    warmup always sends load;
//   [window_start, +stage 1 ...)     each stage moves linearly from the previous level to its
//                                    target over its duration (the stage clock starts with the
//                                    measured window, as the scenario's duration = sum of stages);
//   after the last stage             the last level holds.
// Without stages the level is the initial level throughout.
//
// For rates, mass(t) = ∫ level from `start` to t (expected arrivals) and time_at_mass() inverts
// it exactly, so arrival k of a constant process sits at mass k (no drift from accumulating
// rounded gaps) and a Poisson process of varying rate is drawn by time rescaling (unit
// exponential gaps in mass).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace llmload::worker {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct ProfileStage {
  int64_t duration_ns = 0;  // > 0
  double level = 0;         // target at the end of the stage (>= 0)
};

class LoadProfile {
 public:
  LoadProfile() = default;
  // start_ns <= window_start_ns. Levels < 0 are treated as 0.
  LoadProfile(int64_t start_ns, int64_t window_start_ns, double initial_level,
              const std::vector<ProfileStage>& stages);

  // The level at t (t < start: the warmup level).
  double level_at(int64_t t) const;
  // The highest level the profile ever reaches.
  double max_level() const { return max_level_; }

  // ∫ level ds over [start, t], t in ns and the level per second (0 for t <= start).
  double mass_at(int64_t t) const;
  // The earliest t >= start with mass_at(t) >= m (ns, rounded to nearest); kNever when the
  // profile never accumulates m (the level drops to 0 for good).
  int64_t time_at_mass(double m) const;

  // The first time > t at which floor(level) differs from floor(level_at(t)); kNever if the
  // integer level never changes after t. Concurrency ramps wake the scheduler then.
  int64_t next_integer_change(int64_t t) const;

 private:
  struct Segment {
    int64_t t0;  // absolute ns
    int64_t t1;  // kNever for the last (holding) segment
    double l0;   // level at t0
    double l1;   // level at t1 (== l0 for the holding segment)
    double m0;   // mass at t0
  };
  const Segment& segment_at(int64_t t) const;
  static double level_in(const Segment& s, int64_t t);
  static double mass_in(const Segment& s, int64_t t);  // mass from s.t0 to t

  int64_t start_ = 0;
  std::vector<Segment> segments_;
  double max_level_ = 0;
};

}  // namespace llmload::worker
