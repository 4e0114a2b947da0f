// The one formatter of numbers for output (reports, tables, CSV, messages). Every writer formats
// its numbers through these, so a column or a message formats a value one way everywhere.
#pragma once

#include <string>

namespace llmload {

// One number through a printf conversion for a double ("%.3f", "%g", "$%.4f", "%.1f%%"): the
// format holds exactly one conversion, of a double. Output past 63 characters is cut.
std::string format_number(const char* printf_format, double v);
// "%g": six significant digits, the short form for levels, rates and parameters ("0.5", "1e+06").
std::string format_general(double v);
// The shortest text that reads back as the same double ("0.1", "1e+300"): CSV cells, where a
// reader must get the exact value back.
std::string format_round_trip(double v);
// Exactly `decimals` digits after the point, always with '.' whatever the C locale ("%.3f" in
// the C locale): the HdrHistogram log's timestamps, which other tools parse.
std::string format_fixed(int decimals, double v);

}  // namespace llmload
