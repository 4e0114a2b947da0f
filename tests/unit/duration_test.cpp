#include "common/duration.h"

#include <gtest/gtest.h>

namespace llmload {
namespace {

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration_ns("250us").value(), 250'000);
  EXPECT_EQ(parse_duration_ns("50ms").value(), 50'000'000);
  EXPECT_EQ(parse_duration_ns("1.5s").value(), 1'500'000'000);
  EXPECT_EQ(parse_duration_ns("2m").value(), 120'000'000'000);
  EXPECT_EQ(parse_duration_ns("1h").value(), 3'600'000'000'000);
}

TEST(Duration, RefusesBareNumbersAndUnknownUnits) {
  auto bare = parse_duration_ns("50");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().find("'50'"), std::string::npos);
  EXPECT_FALSE(parse_duration_ns("5 parsecs").ok());
  EXPECT_FALSE(parse_duration_ns("").ok());
  EXPECT_FALSE(parse_duration_ns("ms").ok());
  EXPECT_FALSE(parse_duration_ns("-5s").ok());
}

TEST(Duration, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(format_duration_ns(50'000'000), "50ms");
  EXPECT_EQ(format_duration_ns(1'500'000'000), "1500ms");
  EXPECT_EQ(format_duration_ns(120'000'000'000), "2m");
  EXPECT_EQ(format_duration_ns(0), "0s");
  for (const char* s : {"250us", "50ms", "1500ms", "2m", "1h"})
    EXPECT_EQ(format_duration_ns(parse_duration_ns(s).value()), s);
}

}  // namespace
}  // namespace llmload
