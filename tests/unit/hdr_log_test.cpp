// The .hlog interval log: header text, line format, write -> read round trip, bad input.
#include "common/hdr_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace llmload {
namespace {

constexpr int64_t kStartMs = 1'763'924'400'123;  // Sun Nov 23 19:00:00.123 UTC 2025

HdrHistogram interval(int64_t start_ms, int64_t length_ms, const std::string& tag, int64_t base) {
  HdrHistogram h = HdrHistogram::for_micros();
  for (int64_t v = 1; v <= 1000; ++v) h.record(base + v * 97);
  h.start_time_ms = start_ms;
  h.end_time_ms = start_ms + length_ms;
  h.tag = tag;
  return h;
}

TEST(HdrLog, HeaderIsTheReferenceFormat) {
  std::string header = hdr_log_header(kStartMs, kStartMs - 123, "made by llmload\nsecond line");
  EXPECT_EQ(header,
            "#[Histogram log format version 1.3]\n"
            "#made by llmload\n"
            "#second line\n"
            "#[StartTime: 1763924400.123 (seconds since epoch), Sun Nov 23 19:00:00 UTC 2025]\n"
            "#[BaseTime: 1763924400.000 (seconds since epoch)]\n"
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
            "\"Interval_Compressed_Histogram\"\n");
}

TEST(HdrLog, IntervalLineIsTheReferenceFormat) {
  HdrHistogram h = interval(kStartMs + 1500, 1000, "ttft", 0);
  auto line = hdr_log_interval_line(h, kStartMs);
  ASSERT_TRUE(line.ok()) << line.error();
  ASSERT_EQ(h.max(), 97'023);  // the max column: value / 1000 (µs -> ms), 3 decimals
  std::string expected = "Tag=ttft,1.500,1.000,97.023," + h.to_base64() + "\n";
  EXPECT_EQ(*line, expected);
  h.tag.clear();
  EXPECT_EQ(hdr_log_interval_line(h, kStartMs)->rfind("1.500,1.000,", 0), 0u);
  h.tag = "bad tag";
  EXPECT_FALSE(hdr_log_interval_line(h, kStartMs).ok());
  h.tag = "a,b";
  EXPECT_FALSE(hdr_log_interval_line(h, kStartMs).ok());
  h.tag = "ok";
  h.end_time_ms = h.start_time_ms - 1;
  EXPECT_FALSE(hdr_log_interval_line(h, kStartMs).ok());
}

TEST(HdrLog, WriteThenReadRoundTrips) {
  std::string path = testing::TempDir() + "hdr_log_test_" + std::to_string(getpid()) + ".hlog";
  auto writer = HdrLogWriter::create(path, kStartMs, kStartMs, "round trip");
  ASSERT_TRUE(writer.ok()) << writer.error();
  std::vector<HdrHistogram> written;
  for (int i = 0; i < 5; ++i) {
    written.push_back(interval(kStartMs + i * 1000, 1000, i % 2 ? "itl" : "ttft", i * 10'000));
    written.push_back(interval(kStartMs + i * 1000, 1000, "", i));
  }
  HdrHistogram empty = HdrHistogram::for_micros();
  empty.start_time_ms = kStartMs + 5000;
  empty.end_time_ms = kStartMs + 5250;
  written.push_back(empty);
  for (const HdrHistogram& h : written) ASSERT_FALSE(writer->write(h).has_value());
  HdrHistogram bad = interval(kStartMs, 1000, "no good", 0);
  auto err = writer->write(bad);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find(path), std::string::npos) << err->message;

  auto log = read_hdr_log_file(path);
  ASSERT_TRUE(log.ok()) << log.error();
  ASSERT_TRUE(log->start_time_sec.has_value());
  EXPECT_DOUBLE_EQ(*log->start_time_sec, 1763924400.123);
  ASSERT_EQ(log->intervals.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    const HdrHistogram& a = written[i];
    const HdrHistogram& b = log->intervals[i];
    EXPECT_TRUE(a == b) << i;
    EXPECT_EQ(a.tag, b.tag) << i;
    EXPECT_EQ(a.start_time_ms, b.start_time_ms) << i;
    EXPECT_EQ(a.end_time_ms, b.end_time_ms) << i;
  }
  std::remove(path.c_str());
}

TEST(HdrLog, ResolvesTimestampsAsTheReferenceReader) {
  std::string hist = HdrHistogram::for_micros().to_base64();
  // No BaseTime, timestamps small: relative to StartTime.
  auto rel = parse_hdr_log(
      "#[StartTime: 1763924400.000 (seconds since epoch), x]\n2.500,1.000,0.0," + hist + "\n",
      "rel.hlog");
  ASSERT_TRUE(rel.ok()) << rel.error();
  EXPECT_EQ(rel->intervals.at(0).start_time_ms, 1'763'924'402'500);
  EXPECT_EQ(rel->intervals.at(0).end_time_ms, 1'763'924'403'500);
  // No BaseTime, timestamps near StartTime: absolute.
  auto abs = parse_hdr_log(
      "#[StartTime: 1763924400.000 (seconds since epoch), x]\n"
      "1763924401.000,1.000,0.0," +
          hist + "\r\n",
      "abs.hlog");
  ASSERT_TRUE(abs.ok()) << abs.error();
  EXPECT_EQ(abs->intervals.at(0).start_time_ms, 1'763'924'401'000);
  // No header at all: absolute.
  auto bare = parse_hdr_log("0.000,1.000,0.0," + hist + "\n", "bare.hlog");
  ASSERT_TRUE(bare.ok()) << bare.error();
  EXPECT_EQ(bare->intervals.at(0).start_time_ms, 0);
}

TEST(HdrLog, BadLinesNameTheSourceAndLine) {
  std::string hist = HdrHistogram::for_micros().to_base64();
  struct Case {
    std::string text, needle;
  } cases[] = {
      {"#c\n0.0,1.0,0.0\n", "bad.hlog:2: interval line has 3 fields"},
      {"0.0,1.0,0.0," + hist + ",extra\n", "bad.hlog:1: interval line has more than 4 fields"},
      {"x,1.0,0.0," + hist + "\n", "bad.hlog:1: interval start 'x'"},
      {"0.0,-1,0.0," + hist + "\n", "interval length '-1'"},
      {"0.0,1.0,nan," + hist + "\n", "interval max 'nan'"},
      {"\n\n0.0,1.0,0.0,HISTFAAA!\n", "bad.hlog:3: HdrHistogram decode: base64"},
      {"0.0,1.0,0.0," + hist.substr(0, 24) + "\n", "bad.hlog:1: HdrHistogram decode"},
      {"Tag=,0.0,1.0,0.0," + hist + "\n", "invalid tag"},
      {"Tag=x\n", "Tag= without"},
      {"#[StartTime: soon]\n", "StartTime is not a number"},
      {"#[BaseTime: ]\n", "BaseTime is not a number"},
  };
  for (const Case& c : cases) {
    auto r = parse_hdr_log(c.text, "bad.hlog");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().find(c.needle), std::string::npos) << r.error();
  }
  auto missing = read_hdr_log_file("/nonexistent/dir/x.hlog");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/dir/x.hlog"), std::string::npos);
  EXPECT_FALSE(HdrLogWriter::create("/nonexistent/dir/x.hlog", 0, 0).ok());
}

}  // namespace
}  // namespace llmload
