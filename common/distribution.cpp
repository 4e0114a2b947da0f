#include "common/distribution.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/number_format.h"

namespace llmload {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& s : s_) s = splitmix64(x);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform01() {
  return double(next() >> 11) * 0x1.0p-53;
}

uint64_t Rng::below(uint64_t n) {
  // Rejection sampling: no modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next();
  while (x >= limit);
  return x % n;
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1;
  do u1 = uniform01();
  while (u1 <= 0.0);
  const double u2 = uniform01();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

Distribution Distribution::fixed(double v) {
  Distribution d;
  d.kind = DistKind::kFixed;
  d.value = v;
  return d;
}

Distribution Distribution::uniform(double lo, double hi) {
  Distribution d;
  d.kind = DistKind::kUniform;
  d.min = lo;
  d.max = hi;
  d.has_max = true;
  return d;
}

Distribution Distribution::normal(double mean, double stddev) {
  Distribution d;
  d.kind = DistKind::kNormal;
  d.mean = mean;
  d.stddev = stddev;
  return d;
}

Distribution Distribution::lognormal(double mean, double stddev) {
  Distribution d;
  d.kind = DistKind::kLognormal;
  d.mean = mean;
  d.stddev = stddev;
  return d;
}

double Distribution::sample(Rng& rng) const {
  double v = 0;
  switch (kind) {
    case DistKind::kFixed:
      return value;
    case DistKind::kUniform:
      return min + (max - min) * rng.uniform01();
    case DistKind::kNormal:
      v = mean + stddev * rng.normal();
      break;
    case DistKind::kLognormal: {
      // Parameters of the underlying normal from the mean m and stddev s of the values:
      // sigma² = ln(1 + s²/m²), mu = ln m − sigma²/2.
      if (mean <= 0) return std::max(min, 0.0);
      const double sigma2 = std::log1p((stddev * stddev) / (mean * mean));
      const double mu = std::log(mean) - sigma2 / 2;
      v = std::exp(mu + std::sqrt(sigma2) * rng.normal());
      break;
    }
  }
  v = std::max(v, min);
  if (has_max) v = std::min(v, max);
  return v;
}

int64_t Distribution::sample_int(Rng& rng, int64_t floor_value) const {
  const double v = sample(rng);
  const int64_t r = std::llround(v);
  return std::max(r, floor_value);
}

double Distribution::expected_mean() const {
  switch (kind) {
    case DistKind::kFixed:
      return value;
    case DistKind::kUniform:
      return (min + max) / 2;
    case DistKind::kNormal:
    case DistKind::kLognormal:
      return mean;
  }
  return 0;
}

std::string Distribution::describe() const {
  std::string bounds;
  if (kind == DistKind::kNormal || kind == DistKind::kLognormal) {
    if (has_max)
      bounds = " [" + format_general(min) + ", " + format_general(max) + "]";
    else if (min != 0)
      bounds = " [" + format_general(min) + ", inf)";
  }
  switch (kind) {
    case DistKind::kFixed:
      return "fixed " + format_general(value);
    case DistKind::kUniform:
      return "uniform [" + format_general(min) + ", " + format_general(max) + "]";
    case DistKind::kNormal:
      return "normal mean " + format_general(mean) + " stddev " + format_general(stddev) + bounds;
    case DistKind::kLognormal:
      return "lognormal mean " + format_general(mean) + " stddev " + format_general(stddev) +
             bounds;
  }
  return "";
}

}  // namespace llmload
