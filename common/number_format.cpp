#include "common/number_format.h"

#include <charconv>
#include <cstdio>

namespace llmload {

std::string format_number(const char* printf_format, double v) {
  char buf[64];
  // The format comes from our own code, never from input.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  std::snprintf(buf, sizeof buf, printf_format, v);
#pragma GCC diagnostic pop
  return buf;
}

std::string format_general(double v) {
  return format_number("%g", v);
}

std::string format_round_trip(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_fixed(int decimals, double v) {
  char buf[400];  // DBL_MAX in fixed notation is 309 digits
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return std::string(buf, r.ptr);
}

}  // namespace llmload
