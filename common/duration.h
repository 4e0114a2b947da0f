// Durations as users write them: "250us", "50ms", "1.5s", "2m", "1h" (a number and a unit;
// a bare number is refused as ambiguous).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload {

// Nanoseconds. Error names the text at fault.
Expected<int64_t> parse_duration_ns(std::string_view text);
// In the largest unit that divides it exactly: "50ms", "1500ms", "2m", "250us", "0s".
std::string format_duration_ns(int64_t ns);

}  // namespace llmload
