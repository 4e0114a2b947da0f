#include "common/number_format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

namespace llmload {
namespace {

TEST(NumberFormat, PrintfConversionsOfOneDouble) {
  EXPECT_EQ(format_number("%.3f", 2.0 / 3.0), "0.667");
  EXPECT_EQ(format_number("%.1f ms", 12.25), "12.2 ms");  // round half to even, as printf
  EXPECT_EQ(format_number("$%.4f", 0.5), "$0.5000");
  EXPECT_EQ(format_number("%.4g%%", 12.5), "12.5%");
  EXPECT_EQ(format_number("%+.1f%%", -3.04), "-3.0%");
  EXPECT_EQ(format_number("%.9g", 0.1), "0.1");
  EXPECT_EQ(format_number("%.1f", 1e300).size(), 63u);  // cut, never overrun
}

TEST(NumberFormat, GeneralIsSixSignificantDigits) {
  EXPECT_EQ(format_general(0.5), "0.5");
  EXPECT_EQ(format_general(64), "64");
  EXPECT_EQ(format_general(1234567), "1.23457e+06");
  EXPECT_EQ(format_general(1e-5), "1e-05");
}

TEST(NumberFormat, RoundTripReadsBackTheSameDouble) {
  for (double v : {0.0, 0.1, 1.0 / 3.0, -2.5e-300, 1e300, 123456.789,
                   std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()})
    EXPECT_EQ(std::strtod(format_round_trip(v).c_str(), nullptr), v) << format_round_trip(v);
  EXPECT_EQ(format_round_trip(0.1), "0.1");
  EXPECT_EQ(format_round_trip(250), "250");
}

TEST(NumberFormat, FixedDecimalsAsPrintfInTheCLocale) {
  EXPECT_EQ(format_fixed(3, 1700000000.5), "1700000000.500");
  EXPECT_EQ(format_fixed(3, 0.0005), format_number("%.3f", 0.0005));
  EXPECT_EQ(format_fixed(3, 2.0 / 3.0), "0.667");
  EXPECT_EQ(format_fixed(3, std::numeric_limits<double>::max()).size(), 309u + 4u);
}

}  // namespace
}  // namespace llmload
