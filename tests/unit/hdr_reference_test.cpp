// Histograms encoded by the reference implementations (Java org.HdrHistogram 2.1.11 and
// hdr-histogram-js 3.0.1; how they were made: tests/data/hdr/README.md) decode to exactly the
// counts, percentiles and statistics those libraries reported.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/hdr_histogram.h"

namespace llmload {
namespace {

struct Fixture {
  std::string name;
  int64_t lowest = 0, highest = 0;
  int digits = 0;
  std::string base64, plain_base64;
  int64_t total = -1, min = -1, max = -1, max_raw = -1;
  double mean = NAN, stddev = NAN;
  std::vector<std::pair<double, int64_t>> percentiles;
  std::vector<HdrHistogram::Bucket> buckets;
  std::vector<std::pair<int64_t, int64_t>> corrected;  // (value, interval) recorded by Java
};

std::vector<Fixture> load(const std::string& file) {
  std::ifstream in(std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/hdr/" + file);
  EXPECT_TRUE(in.good()) << "missing fixture file " << file;
  std::vector<Fixture> out;
  Fixture cur;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string key;
    s >> key;
    if (key == "name") {
      cur = Fixture{};
      s >> cur.name;
    } else if (key == "settings") {
      s >> cur.lowest >> cur.highest >> cur.digits;
    } else if (key == "base64") {
      s >> cur.base64;
    } else if (key == "plain_base64") {
      s >> cur.plain_base64;
    } else if (key == "total") {
      s >> cur.total;
    } else if (key == "min") {
      s >> cur.min;
    } else if (key == "max") {
      s >> cur.max;
    } else if (key == "max_raw") {
      s >> cur.max_raw;
    } else if (key == "mean") {
      s >> cur.mean;
    } else if (key == "stddev") {
      s >> cur.stddev;
    } else if (key == "p") {
      double p;
      int64_t v;
      s >> p >> v;
      cur.percentiles.emplace_back(p, v);
    } else if (key == "bucket") {
      HdrHistogram::Bucket b{};
      s >> b.value >> b.count;
      cur.buckets.push_back(b);
    } else if (key == "corrected") {
      int64_t v, i;
      s >> v >> i;
      cur.corrected.emplace_back(v, i);
    } else if (key == "end") {
      out.push_back(cur);
    } else {
      ADD_FAILURE() << file << ": unknown key " << key;
    }
    EXPECT_FALSE(s.fail()) << file << ": bad line " << line;
  }
  return out;
}

void check(const Fixture& f) {
  SCOPED_TRACE(f.name);
  auto decoded = HdrHistogram::from_base64(f.base64);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  const HdrHistogram& h = *decoded;
  EXPECT_EQ(h.lowest_discernible(), f.lowest);
  EXPECT_EQ(h.highest_trackable(), f.highest);
  EXPECT_EQ(h.significant_digits(), f.digits);
  EXPECT_EQ(h.total_count(), f.total);
  EXPECT_EQ(h.min(), f.min);
  if (f.max >= 0) {
    EXPECT_EQ(h.max(), f.max);
  }
  // hdr-histogram-js reports the raw max it saw; a decoded histogram only knows its bucket.
  if (f.max_raw >= 0) {
    EXPECT_EQ(h.max(), f.max_raw == 0 ? 0 : h.highest_equivalent(f.max_raw));
  }
  EXPECT_NEAR(h.mean(), f.mean, std::fabs(f.mean) * 1e-12);
  EXPECT_NEAR(h.stddev(), f.stddev, std::fabs(f.stddev) * 1e-9);
  ASSERT_EQ(f.percentiles.size(), 14u);
  for (auto [p, v] : f.percentiles) EXPECT_EQ(h.value_at_percentile(p), v) << "p" << p;
  std::vector<HdrHistogram::Bucket> buckets = h.recorded_buckets();
  ASSERT_EQ(buckets.size(), f.buckets.size());
  for (size_t i = 0; i < buckets.size(); ++i) {
    ASSERT_EQ(buckets[i].value, f.buckets[i].value) << i;
    ASSERT_EQ(buckets[i].count, f.buckets[i].count) << i;
  }
  // Our encoding of the same histogram is byte for byte the reference's uncompressed one.
  if (!f.plain_base64.empty()) {
    auto plain = base64_decode(f.plain_base64);
    ASSERT_TRUE(plain.ok());
    EXPECT_TRUE(h.encode() == *plain) << "our V2 encoding differs from Java's";
    auto from_plain = HdrHistogram::decode(*plain);
    ASSERT_TRUE(from_plain.ok()) << from_plain.error();
    EXPECT_TRUE(*from_plain == h);
  }
  // Replaying the recorded operations with our code gives the same histogram.
  if (!f.corrected.empty()) {
    HdrHistogram ours(f.lowest, f.highest, f.digits);
    for (auto [v, i] : f.corrected) ASSERT_TRUE(ours.record_corrected(v, i));
    EXPECT_TRUE(ours == h);
  }
  // And it survives our own round trip.
  auto again = HdrHistogram::from_base64(h.to_base64());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_TRUE(*again == h);
}

TEST(HdrReference, JavaEncodingsDecodeToJavasFigures) {
  std::vector<Fixture> fixtures = load("java_fixtures.txt");
  ASSERT_EQ(fixtures.size(), 6u);
  for (const Fixture& f : fixtures) check(f);
}

TEST(HdrReference, JsEncodingsDecodeToJsFigures) {
  std::vector<Fixture> fixtures = load("js_fixtures.txt");
  ASSERT_EQ(fixtures.size(), 3u);
  for (const Fixture& f : fixtures) check(f);
}

}  // namespace
}  // namespace llmload
