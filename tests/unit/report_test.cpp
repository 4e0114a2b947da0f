#include <gtest/gtest.h>

#include <regex>

#include "analysis/report/html_report.h"
#include "common/rating.h"
#include "analysis/report/svg_chart.h"

namespace llmload::analysis {
namespace {

RunResult sample_run(int64_t ttft_us, int64_t tps) {
  RunResult r;
  r.run.id = "run-a";
  r.run.duration_s = 10;
  r.run.client.saturated = true;
  r.run.insecure = true;
  for (const char* model : {"m1", "m2"}) {
    GroupStats g(Labels{{"model", model}, {"target", "http://t"}});
    for (int i = 0; i < 200; ++i) {
      g.record(Metric::kTtft, ttft_us + i * 10);
      g.record(Metric::kE2e, ttft_us * 5 + i);
      g.record(Metric::kItl, 20'000);
      g.record(Metric::kDecodeTps, tps);
    }
    g.counters.requests = g.counters.ok = 200;
    g.record_error(ErrorKind::kTruncated, "stream ended <without> [DONE]");
    r.groups.push_back(GroupResult{g, 0.25});
  }
  recompute_total(r);
  return r;
}

TEST(SvgChart, PercentileAxisIsTheHdrHistogramLogScale) {
  EXPECT_DOUBLE_EQ(percentile_to_x(0), 0);
  EXPECT_NEAR(percentile_to_x(90), 1, 1e-12);
  EXPECT_NEAR(percentile_to_x(99), 2, 1e-9);
  EXPECT_NEAR(percentile_to_x(99.9), 3, 1e-9);
  EXPECT_NEAR(percentile_to_x(100), 6, 1e-6);  // clamped at 99.9999
}

TEST(SvgChart, OnePolylinePerSeriesWithOnePointPerDatum) {
  ChartSpec spec;
  spec.id = "c1";
  spec.title = "t <&>";
  spec.hline = 5;
  std::vector<ChartSeries> series = {{"a", {{0, 1}, {1, 2}, {2, 3}}}, {"b\"q", {{0, 4}, {2, 8}}}};
  std::string svg = svg_line_chart(spec, series);
  std::regex poly("<polyline class=\"series\" data-series=\"([^\"]*)\"[^>]*points=\"([^\"]*)\"");
  std::vector<std::pair<std::string, size_t>> found;
  for (std::sregex_iterator it(svg.begin(), svg.end(), poly), end; it != end; ++it) {
    std::string pts = (*it)[2];
    found.push_back({(*it)[1], size_t(std::count(pts.begin(), pts.end(), ','))});
  }
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], std::make_pair(std::string("a"), size_t(3)));
  EXPECT_EQ(found[1], std::make_pair(std::string("b&quot;q"), size_t(2)));
  EXPECT_NE(svg.find("class=\"slo\""), std::string::npos);
  EXPECT_NE(svg.find("t &lt;&amp;&gt;"), std::string::npos);
  // Every point lies inside the viewBox.
  std::regex pt("([0-9.]+),([0-9.]+)");
  std::string pts = svg.substr(svg.find("points=\""));
  for (std::sregex_iterator it(pts.begin(), pts.end(), pt), end; it != end; ++it) {
    EXPECT_LE(std::stod((*it)[1]), spec.width);
    EXPECT_LE(std::stod((*it)[2]), spec.height);
  }
}

TEST(Rating, DefaultTiersAndParsing) {
  auto tiers = default_rating_tiers();
  GroupStats g;
  g.record(Metric::kTtft, 500'000);
  g.record(Metric::kDecodeTps, 150);
  EXPECT_EQ(rate_group(g, tiers), "excellent");
  GroupStats slow;
  slow.record(Metric::kTtft, 3'000'000);
  slow.record(Metric::kDecodeTps, 150);
  EXPECT_EQ(rate_group(slow, tiers), "fair");
  GroupStats worst;
  worst.record(Metric::kTtft, 9'000'000);
  worst.record(Metric::kDecodeTps, 10);
  EXPECT_EQ(rate_group(worst, tiers), "poor");
  EXPECT_FALSE(rate_group(GroupStats(), tiers));
  auto parsed = parse_rating_tiers("fast:250ms:200,ok:1s:20");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_DOUBLE_EQ((*parsed)[0].ttft_ms_below, 250);
  EXPECT_EQ(rate_group(g, *parsed), "ok");
  EXPECT_FALSE(parse_rating_tiers("nonsense").ok());
  EXPECT_FALSE(parse_rating_tiers("a:1x:3").ok());
}

TEST(HtmlReport, SelfContainedWithChartsWarningsAndErrors) {
  ReportRun a{"baseline", sample_run(100'000, 120), {}};
  ReportRun b{"current", sample_run(150'000, 60), {}};
  for (int i = 1; i <= 5; ++i) {
    IntervalRow row;
    row.elapsed_s = i;
    row.requests_per_s = 10 * i;
    row.output_tokens_per_s = 100 * i;
    row.ttft_p50_ms = 100;
    row.ttft_p99_ms = 150;
    a.intervals.push_back(row);
  }
  std::string html = html_report({a, b});
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://t\""), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  for (const char* id :
       {"spectrum-ttft", "spectrum-itl", "spectrum-e2e", "ts-throughput", "ts-ttft"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(html.find("id=\"spectrum-tpot\""), std::string::npos);  // no tpot recorded
  // Overlay: each spectrum has one series per run and group (2 runs × 2 models).
  size_t start = html.find("id=\"spectrum-ttft\""), end = html.find("</svg>", start);
  std::string ttft = html.substr(start, end - start);
  size_t n = 0;
  for (size_t p = ttft.find("class=\"series\""); p != std::string::npos;
       p = ttft.find("class=\"series\"", p + 1))
    ++n;
  EXPECT_EQ(n, 4u);
  EXPECT_NE(ttft.find("data-series=\"current m2\""), std::string::npos);
  EXPECT_NE(html.find("saturated"), std::string::npos);
  EXPECT_NE(html.find("--insecure"), std::string::npos);
  EXPECT_NE(html.find("stream ended &lt;without&gt; [DONE]"), std::string::npos);
  EXPECT_NE(html.find("rating-excellent"), std::string::npos);
  EXPECT_NE(html.find("rating-good"), std::string::npos);
}

}  // namespace
}  // namespace llmload::analysis
