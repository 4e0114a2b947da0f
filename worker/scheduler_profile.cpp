#include "worker/scheduler_profile.h"

#include <algorithm>
#include <cmath>

namespace llmload::worker {

namespace {
constexpr double kNsPerS = 1e9;

int64_t round_ns(double t) {
  if (t >= 9.2e18) return kNever;
  return static_cast<int64_t>(std::llround(t));
}
}  // namespace

LoadProfile::LoadProfile(int64_t start_ns, int64_t window_start_ns, double initial_level,
                         const std::vector<ProfileStage>& stages)
    : start_(start_ns) {
  initial_level = std::max(0.0, initial_level);
  window_start_ns = std::max(window_start_ns, start_ns);
  double warm_level = initial_level;
  if (warm_level == 0 && !stages.empty()) warm_level = std::max(0.0, stages.front().level);
  double mass = 0;
  auto push = [&](int64_t t0, int64_t t1, double l0, double l1) {
    segments_.push_back({t0, t1, l0, l1, mass});
    max_level_ = std::max({max_level_, l0, l1});
    if (t1 != kNever) mass += (l0 + l1) * 0.5 * (double(t1 - t0) / kNsPerS);
  };
  if (window_start_ns > start_ns) push(start_ns, window_start_ns, warm_level, warm_level);
  int64_t t = window_start_ns;
  double level = initial_level;
  for (const ProfileStage& st : stages) {
    if (st.duration_ns <= 0) continue;
    const double target = std::max(0.0, st.level);
    push(t, t + st.duration_ns, level, target);
    t += st.duration_ns;
    level = target;
  }
  push(t, kNever, level, level);
}

const LoadProfile::Segment& LoadProfile::segment_at(int64_t t) const {
  // Few segments (stages): a linear scan is fine and branch-predictable.
  for (const Segment& s : segments_) {
    if (t < s.t1) return s;
  }
  return segments_.back();
}

double LoadProfile::level_in(const Segment& s, int64_t t) {
  if (s.t1 == kNever || s.l0 == s.l1) return s.l0;
  const double f = double(t - s.t0) / double(s.t1 - s.t0);
  return s.l0 + (s.l1 - s.l0) * std::clamp(f, 0.0, 1.0);
}

double LoadProfile::mass_in(const Segment& s, int64_t t) {
  const double dt = double(t - s.t0) / kNsPerS;
  if (dt <= 0) return 0;
  if (s.t1 == kNever || s.l0 == s.l1) return s.l0 * dt;
  const double slope = (s.l1 - s.l0) / (double(s.t1 - s.t0) / kNsPerS);
  return s.l0 * dt + 0.5 * slope * dt * dt;
}

double LoadProfile::level_at(int64_t t) const {
  if (segments_.empty()) return 0;
  if (t < start_) return segments_.front().l0;
  return level_in(segment_at(t), t);
}

double LoadProfile::mass_at(int64_t t) const {
  if (segments_.empty() || t <= start_) return 0;
  const Segment& s = segment_at(t);
  return s.m0 + mass_in(s, t);
}

int64_t LoadProfile::time_at_mass(double m) const {
  if (segments_.empty()) return kNever;
  if (m <= 0) return start_;
  for (const Segment& s : segments_) {
    const bool last = s.t1 == kNever;
    const double seg_mass = last ? INFINITY : (s.l0 + s.l1) * 0.5 * (double(s.t1 - s.t0) / kNsPerS);
    if (!last && s.m0 + seg_mass < m) continue;
    const double need = m - s.m0;  // mass to accumulate inside this segment, > 0
    if (last || s.l0 == s.l1) {
      if (s.l0 <= 0) {
        if (last) return kNever;
        continue;
      }
      return round_ns(double(s.t0) + need / s.l0 * kNsPerS);
    }
    // level(x) = l0 + a x (x in s since t0): l0 x + a/2 x^2 = need.
    const double len = double(s.t1 - s.t0) / kNsPerS;
    const double a = (s.l1 - s.l0) / len;
    const double disc = s.l0 * s.l0 + 2 * a * need;
    double x;
    if (disc <= 0) {
      x = len;
    } else {
      // Numerically stable root of (a/2) x^2 + l0 x - need = 0.
      x = 2 * need / (s.l0 + std::sqrt(disc));
    }
    x = std::clamp(x, 0.0, len);
    return std::min(round_ns(double(s.t0) + x * kNsPerS), s.t1);
  }
  return kNever;
}

int64_t LoadProfile::next_integer_change(int64_t t) const {
  if (segments_.empty()) return kNever;
  const double cur = std::floor(level_at(t) + 1e-9);
  const int64_t from = std::max(t, start_);
  for (const Segment& s : segments_) {
    if (s.t1 != kNever && s.t1 <= from) continue;
    const int64_t lo = std::max(from, s.t0);
    if (s.t1 == kNever || s.l0 == s.l1) {
      // Constant segment: its level differs from cur at its start, or never within it.
      if (std::floor(s.l0 + 1e-9) != cur) return lo > t ? lo : t + 1;
      continue;
    }
    // Linear. A jump at its start (warmup level → initial level) is a change at once.
    if (lo > t && std::floor(level_in(s, lo) + 1e-9) != cur) return lo;
    // Find when the level first leaves [cur, cur + 1).
    const double target = s.l1 > s.l0 ? cur + 1 : cur - 1e-9;
    const bool reaches = s.l1 > s.l0 ? s.l1 + 1e-9 >= target : s.l1 < cur;
    if (!reaches) continue;
    const double f = (target - s.l0) / (s.l1 - s.l0);
    int64_t when = s.t0 + static_cast<int64_t>(std::ceil(f * double(s.t1 - s.t0)));
    when = std::clamp(when, lo, s.t1);
    if (when <= t) when = t + 1;
    return when;
  }
  return kNever;
}

}  // namespace llmload::worker
