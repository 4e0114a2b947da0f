#include "mock/distributions.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace llmload::mock {

uint64_t mix64(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

namespace {

bool parse_number(std::string_view s, double& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

std::vector<std::string_view> split_colon(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(':', start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

Error bad(std::string_view text, const char* why) {
  return Error{"token distribution '" + std::string(text) + "': " + why +
               " (forms: N, uniform:LO:HI, normal:MEAN:SD, exp:MEAN, lognormal:MEDIAN:SIGMA)"};
}

}  // namespace

Expected<TokenDistribution> TokenDistribution::parse(std::string_view text) {
  auto parts = split_colon(text);
  const std::string_view kind = parts[0];
  std::vector<double> nums;
  for (size_t i = 1; i < parts.size(); ++i) {
    double v;
    if (!parse_number(parts[i], v)) return bad(text, "not a number");
    nums.push_back(v);
  }
  TokenDistribution d;
  if (parts.size() == 1) {
    double v;
    if (!parse_number(kind, v) || v < 1 || v > 1e6 || v != std::floor(v))
      return bad(text, "a fixed count must be a whole number from 1 to 1000000");
    return fixed(int(v));
  }
  if (kind == "uniform") {
    if (nums.size() != 2) return bad(text, "uniform takes LO:HI");
    if (nums[0] < 1 || nums[1] < nums[0] || nums[1] > 1e6)
      return bad(text, "need 1 <= LO <= HI <= 1000000");
    d = {Kind::kUniform, std::floor(nums[0]), std::floor(nums[1])};
  } else if (kind == "normal") {
    if (nums.size() != 2) return bad(text, "normal takes MEAN:SD");
    if (nums[0] < 1 || nums[1] < 0) return bad(text, "need MEAN >= 1 and SD >= 0");
    d = {Kind::kNormal, nums[0], nums[1]};
  } else if (kind == "exp") {
    if (nums.size() != 1) return bad(text, "exp takes MEAN");
    if (nums[0] < 1) return bad(text, "need MEAN >= 1");
    d = {Kind::kExponential, nums[0], 0};
  } else if (kind == "lognormal") {
    if (nums.size() != 2) return bad(text, "lognormal takes MEDIAN:SIGMA");
    if (nums[0] < 1 || nums[1] < 0) return bad(text, "need MEDIAN >= 1 and SIGMA >= 0");
    d = {Kind::kLognormal, nums[0], nums[1]};
  } else {
    return bad(text, "unknown kind");
  }
  return d;
}

namespace {
// Standard normal by Box-Muller (one of the pair; simplicity over speed: once per request).
double std_normal(Rng& rng) {
  double u1 = rng.uniform();
  double u2 = rng.uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}
int clamp_tokens(double v) {
  if (!(v >= 1)) return 1;
  if (v > 1e6) return 1'000'000;
  return int(std::llround(v));
}
}  // namespace

int TokenDistribution::sample(Rng& rng) const {
  switch (kind) {
    case Kind::kFixed:
      return clamp_tokens(a);
    case Kind::kUniform: {
      uint64_t span = uint64_t(b - a) + 1;
      return clamp_tokens(a + double(rng.next() % span));
    }
    case Kind::kNormal:
      return clamp_tokens(a + b * std_normal(rng));
    case Kind::kExponential: {
      double u = rng.uniform();
      return clamp_tokens(-a * std::log(1.0 - u));
    }
    case Kind::kLognormal:
      return clamp_tokens(a * std::exp(b * std_normal(rng)));
  }
  return 1;
}

std::string TokenDistribution::to_string() const {
  char buf[96];
  switch (kind) {
    case Kind::kFixed:
      std::snprintf(buf, sizeof buf, "%d", int(a));
      break;
    case Kind::kUniform:
      std::snprintf(buf, sizeof buf, "uniform:%d:%d", int(a), int(b));
      break;
    case Kind::kNormal:
      std::snprintf(buf, sizeof buf, "normal:%g:%g", a, b);
      break;
    case Kind::kExponential:
      std::snprintf(buf, sizeof buf, "exp:%g", a);
      break;
    case Kind::kLognormal:
      std::snprintf(buf, sizeof buf, "lognormal:%g:%g", a, b);
      break;
  }
  return buf;
}

}  // namespace llmload::mock
