#include "common/duration.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace llmload {

Expected<int64_t> parse_duration_ns(std::string_view text) {
  std::string s(text);
  auto bad = [&](const char* why) {
    return Error{"invalid duration '" + s + "': " + why + " (use a number and a unit: us, ms, s, m, h)"};
  };
  if (s.empty()) return bad("empty");
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return bad("no number");
  std::string unit = s.substr(i);
  if (unit.empty()) return bad("no unit");
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + i || !std::isfinite(v)) return bad("not a number");
  double scale;
  if (unit == "ns") scale = 1;
  else if (unit == "us" || unit == "µs") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else if (unit == "m" || unit == "min") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return bad("unknown unit");
  double ns = v * scale;
  if (ns > 9.0e18) return bad("too long");
  return static_cast<int64_t>(std::llround(ns));
}

std::string format_duration_ns(int64_t ns) {
  struct Unit {
    const char* name;
    int64_t scale;
  };
  static constexpr Unit units[] = {{"h", 3600'000'000'000}, {"m", 60'000'000'000},
                                   {"s", 1'000'000'000}, {"ms", 1'000'000}, {"us", 1'000}};
  if (ns == 0) return "0s";
  char buf[64];
  for (const Unit& u : units) {
    if (ns % u.scale == 0) {
      std::snprintf(buf, sizeof buf, "%lld%s", static_cast<long long>(ns / u.scale), u.name);
      return buf;
    }
  }
  for (const Unit& u : units) {
    if (std::llabs(ns) >= u.scale && u.scale <= 1'000'000'000) {
      std::snprintf(buf, sizeof buf, "%.9g%s", double(ns) / double(u.scale), u.name);
      return buf;
    }
  }
  std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  return buf;
}

}  // namespace llmload
