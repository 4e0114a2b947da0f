// Distributions users write for lengths and pauses (output max_tokens, synthetic input lengths,
// think time), and the seeded random generator every sampler in llmload uses.
//
// A Distribution is unit-agnostic: it holds plain doubles. The scenario parser converts units
// on the way in (think time: durations → nanoseconds; token lengths: tokens).
//
// The generator is ours (splitmix64 + xoshiro256**, Box–Muller for normals) rather than
// <random>'s distributions, whose output differs between standard libraries: a seed must give
// the same prompts and lengths on every machine of a distributed run.
#pragma once

#include <cstdint>
#include <string>

namespace llmload {

// xoshiro256** seeded through splitmix64. Deterministic across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  // Uniform in [0, 1).
  double uniform01();
  // Uniform integer in [0, n); n > 0.
  uint64_t below(uint64_t n);
  // Standard normal (mean 0, stddev 1).
  double normal();

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

enum class DistKind {
  kFixed,      // always `value`
  kUniform,    // uniform in [min, max]
  kNormal,     // normal(mean, stddev), clamped to [min, max]
  kLognormal,  // lognormal whose own mean and stddev are `mean` and `stddev`, clamped to [min, max]
};

struct Distribution {
  DistKind kind = DistKind::kFixed;
  double value = 0;   // kFixed
  double mean = 0;    // kNormal, kLognormal: the mean of the drawn values
  double stddev = 0;  // kNormal, kLognormal: the standard deviation of the drawn values (>= 0)
  double min = 0;     // kUniform: lower bound; kNormal/kLognormal: clamp (default 0)
  double max = 0;     // kUniform: upper bound; kNormal/kLognormal: clamp if has_max
  bool has_max = false;

  bool operator==(const Distribution&) const = default;

  static Distribution fixed(double v);
  static Distribution uniform(double lo, double hi);
  static Distribution normal(double mean, double stddev);
  static Distribution lognormal(double mean, double stddev);

  // One draw. Never below `min` (0 by default for normal/lognormal), never above `max` when set.
  double sample(Rng& rng) const;
  // A draw rounded to the nearest integer (token counts), at least `floor_value`.
  int64_t sample_int(Rng& rng, int64_t floor_value = 0) const;
  // The theoretical mean (before clamping), for display.
  double expected_mean() const;
  // "fixed 256", "uniform [64, 512]", "normal mean 256 stddev 64 [1, 1024]".
  std::string describe() const;
  bool is_zero() const { return kind == DistKind::kFixed && value == 0; }
};

}  // namespace llmload
