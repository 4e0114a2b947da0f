#include "common/metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace llmload {
namespace {

TEST(Metrics, EveryMetricHasAUniqueNameThatParsesBack) {
  std::set<std::string> seen;
  ASSERT_EQ(kAllMetrics.size(), kMetricCount);
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    Metric m = kAllMetrics[i];
    EXPECT_EQ(static_cast<std::size_t>(m), i);
    std::string n(name(m));
    EXPECT_TRUE(seen.insert(n).second) << n;
    ASSERT_TRUE(parse_metric(n).has_value()) << n;
    EXPECT_EQ(*parse_metric(n), m);
  }
  EXPECT_FALSE(parse_metric("TTFT").has_value());
  EXPECT_FALSE(parse_metric("").has_value());
  EXPECT_FALSE(parse_metric("server.eval_ms").has_value());
}

TEST(Metrics, NamesAreTheDesignNames) {
  const char* expected[] = {"ttft",     "ttfo",       "ttfb",          "itl",          "tpot",
                            "e2e",      "connect",    "tls",           "queue",        "ttft_sent",
                            "e2e_sent", "decode_tps", "output_tokens", "input_tokens", "wait"};
  static_assert(std::size(expected) == kMetricCount);
  for (std::size_t i = 0; i < kMetricCount; ++i) EXPECT_EQ(name(kAllMetrics[i]), expected[i]);
}

TEST(Metrics, UnitsFollowTheNumberContract) {
  for (Metric m : {Metric::kTtft, Metric::kTtfo, Metric::kTtfb, Metric::kItl, Metric::kTpot,
                   Metric::kE2e, Metric::kConnect, Metric::kTls, Metric::kQueue, Metric::kTtftSent,
                   Metric::kE2eSent, Metric::kWait}) {
    EXPECT_TRUE(is_time(m)) << name(m);
    EXPECT_EQ(unit(m), "ms") << name(m);
    EXPECT_EQ(hdr_unit(m), "us") << name(m);
  }
  EXPECT_FALSE(is_time(Metric::kDecodeTps));
  EXPECT_EQ(unit(Metric::kDecodeTps), "tokens/s");
  EXPECT_EQ(hdr_unit(Metric::kDecodeTps), "tokens/s");
  for (Metric m : {Metric::kOutputTokens, Metric::kInputTokens}) {
    EXPECT_EQ(unit(m), "tokens");
    EXPECT_EQ(hdr_unit(m), "tokens");
  }
}

TEST(Metrics, HistogramSettings) {
  HdrHistogram t = make_histogram(Metric::kTtft);
  HdrHistogram micros = HdrHistogram::for_micros();
  EXPECT_EQ(t.lowest_discernible(), micros.lowest_discernible());
  EXPECT_EQ(t.highest_trackable(), micros.highest_trackable());
  EXPECT_EQ(t.significant_digits(), 3);
  HdrHistogram tok = make_histogram(Metric::kOutputTokens);
  EXPECT_EQ(tok.lowest_discernible(), 1);
  EXPECT_EQ(tok.highest_trackable(), 10'000'000);
  EXPECT_EQ(tok.significant_digits(), 3);
  EXPECT_TRUE(has_expected_settings(t, units_of(Metric::kE2e)));
  EXPECT_FALSE(has_expected_settings(t, units_of(Metric::kDecodeTps)));
  EXPECT_FALSE(has_expected_settings(tok, units_of(Metric::kItl)));
  EXPECT_FALSE(
      has_expected_settings(HdrHistogram(1, 10'000'000, 2), units_of(Metric::kInputTokens)));
}

TEST(Metrics, ServerMetricNames) {
  EXPECT_TRUE(is_server_metric_name("server.prompt_eval_ms"));
  EXPECT_TRUE(is_server_metric_name("server.eval_count"));
  EXPECT_FALSE(is_server_metric_name("server."));
  EXPECT_FALSE(is_server_metric_name("server.Eval"));
  EXPECT_FALSE(is_server_metric_name("server.a-b"));
  EXPECT_FALSE(is_server_metric_name("servers.x"));
  EXPECT_FALSE(is_server_metric_name("server." + std::string(kMaxServerMetricNameLength, 'a')));

  auto ms = units_of_name("server.prompt_eval_ms");
  ASSERT_TRUE(ms.has_value());
  EXPECT_TRUE(ms->is_time);
  EXPECT_EQ(ms->unit, "ms");
  EXPECT_EQ(ms->hdr_unit, "us");
  auto rate = units_of_name("server.predicted_per_s");
  ASSERT_TRUE(rate.has_value());
  EXPECT_EQ(rate->unit, "tokens/s");
  auto count = units_of_name("server.eval_count");
  ASSERT_TRUE(count.has_value());
  EXPECT_EQ(count->unit, "tokens");
  EXPECT_FALSE(units_of_name("latency").has_value());
  auto fixed = units_of_name("itl");
  ASSERT_TRUE(fixed.has_value());
  EXPECT_TRUE(fixed->is_time);
}

TEST(Metrics, NanosecondsRoundToNearestMicrosecond) {
  EXPECT_EQ(ns_to_us(0), 0);
  EXPECT_EQ(ns_to_us(499), 0);
  EXPECT_EQ(ns_to_us(500), 1);
  EXPECT_EQ(ns_to_us(1'234'499), 1234);
  EXPECT_EQ(ns_to_us(1'234'500), 1235);
  EXPECT_EQ(ns_to_us(-1'500), -2);
}

TEST(ErrorKinds, EveryKindHasAUniqueNameThatParsesBack) {
  const char* expected[] = {"connect_refused", "connect_timeout", "dns",      "tls",
                            "http_4xx",        "http_429",        "http_5xx", "ttft_timeout",
                            "idle_timeout",    "total_timeout",   "reset",    "truncated",
                            "protocol",        "server_error",    "cancelled"};
  ASSERT_EQ(std::size(expected), kErrorKindCount);
  for (std::size_t i = 0; i < kErrorKindCount; ++i) {
    ErrorKind k = kAllErrorKinds[i];
    EXPECT_EQ(static_cast<std::size_t>(k), i);
    EXPECT_EQ(name(k), expected[i]);
    ASSERT_TRUE(parse_error_kind(expected[i]).has_value());
    EXPECT_EQ(*parse_error_kind(expected[i]), k);
  }
  EXPECT_FALSE(parse_error_kind("timeout").has_value());
}

}  // namespace
}  // namespace llmload
