// The live view's lines (terminal/plain) and --json objects: the clock past the measured window
// reads as grace, warmup as warmup, and an interval shorter than the report interval is labelled
// partial (its rates are over that fraction of a second).
#include "coordinator/progress_view.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace llmload::coord {
namespace {

ProgressSample sample(double elapsed, double total, double interval = 1.0) {
  ProgressSample s;
  s.elapsed_s = elapsed;
  s.total_s = total;
  s.requests_done = 120;
  s.requests_per_s = 8;
  s.output_tokens_per_s = 400;
  s.in_flight = 4;
  s.ttft_p50_ms = 51.2;
  s.ttft_p99_ms = 88.0;
  s.errors = 1;
  s.workers_alive = 2;
  s.workers_total = 3;
  s.interval_s = interval;
  s.report_interval_s = 1.0;
  return s;
}

TEST(ProgressView, InsideTheWindowTheClockReadsElapsedOfTotal) {
  const std::string l = ProgressView::line(sample(7, 15), false);
  EXPECT_NE(l.find("7s/15s"), std::string::npos) << l;
  EXPECT_EQ(l.find("grace"), std::string::npos) << l;
  EXPECT_EQ(l.find("partial"), std::string::npos) << l;
  EXPECT_NE(l.find("8.0 req/s | 400 tok/s | in-flight 4 | ttft p50/p99 51/88 ms | errors 1"),
            std::string::npos)
      << l;
  EXPECT_NE(l.find("workers 2/3"), std::string::npos) << l;
  EXPECT_EQ(l.find("cancelled"), std::string::npos) << "no cancel: no column: " << l;
}

TEST(ProgressView, ClientCancelledStreamsAreCountedBesideTheErrors) {
  ProgressSample s = sample(7, 15);
  s.client_cancelled = 5;
  const std::string l = ProgressView::line(s, false);
  EXPECT_NE(l.find("errors 1 | workers 2/3 | client-cancelled 5"), std::string::npos) << l;
  EXPECT_EQ(nlohmann::json::parse(ProgressView::json_line(s))["client_cancelled"], 5);
}

TEST(ProgressView, PastTheWindowTheClockSaysGraceNotSixteenOfFifteen) {
  const std::string l = ProgressView::line(sample(16, 15), true);
  EXPECT_EQ(l.find("16s/15s"), std::string::npos) << l;
  EXPECT_NE(l.find("15s/15s grace +1s"), std::string::npos) << l;
  EXPECT_NE(l.find("[################]"), std::string::npos) << "the bar stays full: " << l;
  const auto j = nlohmann::json::parse(ProgressView::json_line(sample(23, 15)));
  EXPECT_EQ(j["phase"], "grace");
  EXPECT_EQ(nlohmann::json::parse(ProgressView::json_line(sample(15, 15)))["phase"], "measured");
}

TEST(ProgressView, WarmupIsSaidAsSuch) {
  const std::string l = ProgressView::line(sample(-3, 15), false);
  EXPECT_NE(l.find("warmup   3s"), std::string::npos) << l;
  EXPECT_EQ(nlohmann::json::parse(ProgressView::json_line(sample(-3, 15)))["phase"], "warmup");
}

TEST(ProgressView, AShortLastIntervalIsLabelledPartialWithItsLength) {
  ProgressSample s = sample(15.13, 15.13, 0.13);
  s.requests_per_s = 60.3;  // 8 completions in 0.13 s
  const std::string l = ProgressView::line(s, false);
  EXPECT_NE(l.find("60.3 req/s"), std::string::npos) << l;
  EXPECT_NE(l.find("partial 0.13s"), std::string::npos) << l;
  const auto j = nlohmann::json::parse(ProgressView::json_line(s));
  EXPECT_TRUE(j["partial"].get<bool>());
  EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 0.13);
  // A full interval, or one within 1 % of the report interval, is not partial.
  EXPECT_FALSE(sample(3, 15, 0.995).partial());
  EXPECT_FALSE(nlohmann::json::parse(ProgressView::json_line(sample(3, 15)))["partial"].get<bool>());
}

TEST(ProgressView, RequestLimitedRunsCountRequests) {
  ProgressSample s = sample(4, 0);
  s.requests_total = 500;
  const std::string l = ProgressView::line(s, true);
  EXPECT_NE(l.find("4s 120/500 req"), std::string::npos) << l;
  EXPECT_NE(l.find("[####"), std::string::npos) << l;  // 24 % of 16 cells: 4
}

TEST(ProgressView, JsonLinesCarryEveryFieldAndMissingPercentilesAreNull) {
  ProgressSample s = sample(2, 10);
  s.ttft_p50_ms.reset();
  s.ttft_p99_ms.reset();
  const auto j = nlohmann::json::parse(ProgressView::json_line(s));
  for (const char* k : {"elapsed_s", "total_s", "requests", "requests_per_s", "output_tokens_per_s",
                        "in_flight", "ttft_p50_ms", "ttft_p99_ms", "errors", "workers_alive",
                        "workers", "phase", "interval_s", "partial"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["ttft_p50_ms"].is_null());
  EXPECT_EQ(j["requests"], 120);
  EXPECT_EQ(j["workers"], 3);
}

TEST(ProgressView, PrintWritesOneLinePerIntervalPerMode) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  ASSERT_NE(f, nullptr);
  {
    ProgressView json(ProgressMode::kJson, f);
    json.print(sample(1, 10));
    json.print(sample(2, 10));
    ProgressView quiet(ProgressMode::kQuiet, f);
    quiet.print(sample(3, 10));
    ProgressView term(ProgressMode::kTerminal, f);
    term.print(sample(4, 10));
    term.finish();
  }
  std::fclose(f);
  const std::string out(buf, len);
  std::free(buf);
  const auto first = out.find('\n');
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(out.substr(0, first))["elapsed_s"], 1);
  EXPECT_EQ(out.find("3s/10s"), std::string::npos) << "quiet printed: " << out;
  EXPECT_NE(out.find("\r\033[K[######"), std::string::npos) << "redrawn in place";
  EXPECT_EQ(out.back(), '\n') << "finish() ends the terminal line";
}

}  // namespace
}  // namespace llmload::coord
