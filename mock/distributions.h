// Token-count distributions for the mock's output length, parsed from user text:
//   "64"                 fixed
//   "uniform:10:100"     uniform integer in [10, 100]
//   "normal:200:50"      normal(mean, stddev), rounded, clamped to >= 1
//   "exp:100"            exponential with that mean, rounded, clamped to >= 1
//   "lognormal:100:0.5"  lognormal with that median and sigma (of the log), clamped to >= 1
// Samples are drawn from a caller-owned Rng, so a seed reproduces them exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload::mock {

// splitmix64: small, fast, good enough for load shaping; deterministic across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed = 1) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

// Mixes two values into one well-spread 64-bit value (a stateless hash).
uint64_t mix64(uint64_t a, uint64_t b);

struct TokenDistribution {
  enum class Kind { kFixed, kUniform, kNormal, kExponential, kLognormal };
  Kind kind = Kind::kFixed;
  double a = 64;  // fixed value, uniform low, mean, median
  double b = 0;   // uniform high, stddev, sigma

  static TokenDistribution fixed(int n) { return {Kind::kFixed, double(n), 0}; }
  // Parses the forms above; the error names the text and what is wrong with it.
  static Expected<TokenDistribution> parse(std::string_view text);
  // Always >= 1 and <= 1,000,000.
  int sample(Rng& rng) const;
  std::string to_string() const;
};

}  // namespace llmload::mock
