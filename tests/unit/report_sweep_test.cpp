// The report's sweep curve (throughput against the SLO's latency, the SLO line, the knee) and
// the stage boundaries on its time-series charts, checked in the SVG the report writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "analysis/report/html_report.h"
#include "analysis/report/svg_chart.h"
#include "analysis/report/sweep_chart.h"
#include "common/atomic_file.h"
#include "common/results_csv.h"
#include "common/results_json.h"

namespace llmload::analysis {
namespace {

namespace fs = std::filesystem;

// A step at `level`: TTFT grows with the load, throughput flattens; tokens = 10 per request.
SweepStep step(double level, int64_t ttft_us, int64_t requests, int exit_code) {
  SweepStep s;
  s.level = level;
  s.exit_code = exit_code;
  RunResult& r = s.result;
  r.run.id = "step-" + std::to_string(int(level));
  r.run.duration_s = 10;
  GroupStats g(Labels{{"model", "m"}, {"target", "mock"}});
  for (int i = 0; i < 100; ++i) g.record(Metric::kTtft, ttft_us);
  g.counters.requests = g.counters.ok = requests;
  g.counters.output_tokens = requests * 10;
  r.groups.push_back(GroupResult{g, std::nullopt});
  recompute_total(r);
  r.assertions.push_back(
      AssertionResult{"ttft.p95 < 500ms", double(ttft_us) / 1000.0, ttft_us < 500'000});
  return s;
}

// Levels 1, 2, 4 pass, 8 fails; the steps ran out of order (a search bisects).
SweepOutcome outcome() {
  SweepOutcome o;
  o.steps.push_back(step(1, 100'000, 100, 0));
  o.steps.push_back(step(8, 900'000, 420, 3));
  o.steps.push_back(step(2, 150'000, 200, 0));
  o.steps.push_back(step(4, 300'000, 380, 0));
  o.best = 3;
  return o;
}

std::vector<SloAssertion> asserts(std::initializer_list<const char*> texts) {
  std::vector<SloAssertion> out;
  for (const char* t : texts) {
    auto a = parse_slo_expr(t);
    EXPECT_TRUE(a.ok()) << t;
    if (a) out.push_back(*a);
  }
  return out;
}

// (x, y) pixel pairs of the polyline named `series` in `svg`.
std::vector<std::pair<std::string, std::string>> polyline(const std::string& svg,
                                                          const std::string& series) {
  std::regex re("data-series=\"" + series + "\"[^>]*points=\"([^\"]*)\"");
  std::smatch m;
  std::vector<std::pair<std::string, std::string>> out;
  if (!std::regex_search(svg, m, re)) return out;
  std::regex pt("([-0-9.]+),([-0-9.]+)");
  std::string pts = m[1];
  for (std::sregex_iterator it(pts.begin(), pts.end(), pt), end; it != end; ++it)
    out.push_back({(*it)[1], (*it)[2]});
  return out;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(SweepCurve, PointsByLevelAgainstTheSloLatencyWithTheKnee) {
  SweepCurve c =
      make_sweep_curve(outcome(), true, asserts({"error_rate < 1%", "ttft.p95 < 500ms"}), "sw");
  EXPECT_EQ(c.latency_variable, "ttft.p95");
  ASSERT_TRUE(c.slo_ms);
  EXPECT_DOUBLE_EQ(*c.slo_ms, 500);
  EXPECT_EQ(c.slo_text, "ttft.p95 < 500ms");
  EXPECT_TRUE(c.tokens_per_s);
  ASSERT_EQ(c.points.size(), 4u);
  const double levels[] = {1, 2, 4, 8};
  const double tps[] = {100, 200, 380, 420};  // requests * 10 tokens / 10 s
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.points[i].level, levels[i]);
    EXPECT_DOUBLE_EQ(c.points[i].throughput, tps[i]);
    ASSERT_TRUE(c.points[i].latency_ms);
    EXPECT_EQ(c.points[i].passed, i < 3);
  }
  EXPECT_NEAR(*c.points[2].latency_ms, 300, 300 * 0.001);
  ASSERT_TRUE(c.knee);
  EXPECT_EQ(*c.knee, 2u);  // level 4
}

TEST(SweepCurve, WithoutALatencySloTheCurveIsTtftP99AndHasNoLine) {
  SweepOutcome o = outcome();
  for (SweepStep& s : o.steps) s.result.total.counters.output_tokens = 0;
  SweepCurve c = make_sweep_curve(o, false, asserts({"ttft.p99 > 1ms", "error_rate < 1%"}), "r");
  EXPECT_EQ(c.latency_variable, "ttft.p99");
  EXPECT_FALSE(c.slo_ms);
  EXPECT_FALSE(c.tokens_per_s);
  EXPECT_DOUBLE_EQ(c.points[0].throughput, 10);  // 100 requests / 10 s
  std::string svg = sweep_chart_svg({c});
  EXPECT_EQ(svg.find("class=\"slo\""), std::string::npos);
  EXPECT_NE(svg.find("requests/s"), std::string::npos);
  EXPECT_NE(svg.find("capacity: rate 4/s"), std::string::npos);
}

TEST(SweepCurve, SvgHasTheSeriesEveryStepTheSloLineAndTheKneeOnItsPoint) {
  SweepCurve c = make_sweep_curve(outcome(), true, asserts({"ttft.p95 < 500ms"}), "sweep-a");
  std::string svg = sweep_chart_svg({c});
  auto pts = polyline(svg, "sweep-a");
  ASSERT_EQ(pts.size(), 4u) << svg;
  EXPECT_EQ(count(svg, "class=\"step pass\""), 3u);
  EXPECT_EQ(count(svg, "class=\"step fail\""), 1u);
  // The knee: one circle, on the third point (level 4) of the line, labelled with its level.
  std::regex knee(
      "<circle class=\"knee\" data-x=\"([^\"]*)\" data-y=\"([^\"]*)\" cx=\"([^\"]*)\" "
      "cy=\"([^\"]*)\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, knee)) << svg;
  EXPECT_EQ(m[1].str(), "380");
  EXPECT_EQ(m[3].str(), pts[2].first);
  EXPECT_EQ(m[4].str(), pts[2].second);
  EXPECT_EQ(count(svg, "class=\"knee\""), 1u);
  EXPECT_NE(svg.find(">capacity: concurrency 4</text>"), std::string::npos);
  // The SLO line sits at 500 ms: above the knee's point, below the failing step's.
  std::regex slo("<line class=\"slo\" x1=\"[^\"]*\" x2=\"[^\"]*\" y1=\"([^\"]*)\"");
  ASSERT_TRUE(std::regex_search(svg, m, slo)) << svg;
  const double slo_y = std::stod(m[1]);
  EXPECT_LT(slo_y, std::stod(pts[2].second));  // SVG y grows downwards
  EXPECT_GT(slo_y, std::stod(pts[3].second));
  EXPECT_NE(svg.find("SLO ttft.p95 &lt; 500ms"), std::string::npos);
  // x from 0: the first point is not on the y axis.
  EXPECT_GT(std::stod(pts[0].first), 64.0 + 1);
}

TEST(SweepCurve, SeveralSweepsOverlaidEachWithItsKnee) {
  SweepCurve a = make_sweep_curve(outcome(), true, asserts({"ttft.p95 < 500ms"}), "a");
  SweepCurve b = a;
  b.label = "b";
  for (auto& p : b.points) p.throughput *= 2;
  std::string svg = sweep_chart_svg({a, b});
  EXPECT_EQ(polyline(svg, "a").size(), 4u);
  EXPECT_EQ(polyline(svg, "b").size(), 4u);
  EXPECT_EQ(count(svg, "class=\"knee\""), 2u);
  EXPECT_EQ(sweep_chart_svg({}), "");
}

TEST(StageLines, BoundariesAreCumulativeStageEnds) {
  auto j = nlohmann::json::parse(
      R"({"load":{"mode":"concurrency","stages":[{"duration":"10s","concurrency":4},
          {"duration":"500ms","concurrency":8},{"duration":"1m","concurrency":8}]}})");
  EXPECT_EQ(stage_boundaries_s(j), (std::vector<double>{10, 10.5, 70.5}));
  EXPECT_TRUE(stage_boundaries_s(nlohmann::json::parse(R"({"load":{"concurrency":4}})")).empty());
  EXPECT_TRUE(stage_boundaries_s(nlohmann::json::object()).empty());
  EXPECT_TRUE(stage_boundaries_s(nlohmann::json::parse(R"({"load":{"stages":[{"duration":"x"}]}})"))
                  .empty());
}

ReportRun staged_run() {
  ReportRun run;
  run.label = "staged";
  run.result = step(4, 200'000, 100, 0).result;
  run.result.run.scenario = nlohmann::json::parse(
      R"({"load":{"mode":"rate","stages":[{"duration":"2s","rate":5},{"duration":"3s","rate":10}]}})");
  for (int i = 1; i <= 8; ++i) {
    IntervalRow row;
    row.elapsed_s = i;
    row.interval_s = 1;
    row.requests_per_s = i < 5 ? 2.0 * i : 10;
    row.output_tokens_per_s = row.requests_per_s * 10;
    row.ttft_p50_ms = 200;
    run.intervals.push_back(row);
  }
  return run;
}

TEST(StageLines, TimeSeriesChartsMarkEveryStageBoundary) {
  std::string html = html_report({staged_run()});
  for (const char* id : {"ts-throughput", "ts-tokens", "ts-inflight", "ts-ttft", "ts-errors"}) {
    size_t at = html.find("id=\"" + std::string(id) + "\"");
    ASSERT_NE(at, std::string::npos) << id;
    std::string svg = html.substr(at, html.find("</svg>", at) - at);
    EXPECT_EQ(count(svg, "<line class=\"marker\""), 2u) << id;
    EXPECT_NE(svg.find("<line class=\"marker\" data-x=\"2\""), std::string::npos) << id;
    EXPECT_NE(svg.find("<line class=\"marker\" data-x=\"5\""), std::string::npos) << id;
    EXPECT_NE(svg.find(">stage 2</text>"), std::string::npos) << id;
    EXPECT_NE(svg.find(">hold</text>"), std::string::npos) << id;
  }
  // Without stages: no markers.
  ReportRun flat = staged_run();
  flat.result.run.scenario = nlohmann::json::object();
  EXPECT_EQ(html_report({flat}).find("<line class=\"marker\""), std::string::npos);
}

TEST(SweepReport, HtmlHasTheCurveAndTheLevelTable) {
  SweepCurve c = make_sweep_curve(outcome(), true, asserts({"ttft.p95 < 500ms"}), "sw");
  std::string html = html_report({staged_run()}, default_rating_tiers(), {c});
  EXPECT_NE(html.find("<h2>Sweep</h2>"), std::string::npos);
  EXPECT_NE(html.find("id=\"sweep-curve\""), std::string::npos);
  EXPECT_NE(html.find("<table id=\"sweep\">"), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"knee\">"), 1u);
  EXPECT_NE(html.find("capacity (the answer: most goodput)"), std::string::npos);
  EXPECT_EQ(html_report({staged_run()}).find("id=\"sweep-curve\""), std::string::npos);
}

// A sweep's directory as `llmload sweep` writes it: sweep.csv (gates' own writer) and a
// results directory per step.
TEST(SweepReport, LoadsASweepDirectory) {
  const fs::path dir = fs::temp_directory_path() / ("llmload-sweep-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  SweepOutcome o = outcome();
  int n = 0;
  for (SweepStep& s : o.steps) {
    // As the sweep saw it (relative to where it ran); the loader looks beside sweep.csv.
    s.out_dir = "elsewhere/step-" + std::to_string(++n);
    fs::create_directories(dir / ("step-" + std::to_string(n)));
    if (s.level == 2) continue;  // a step that stopped before writing results
    ASSERT_TRUE(write_summary_json(s.result,
                                   (dir / ("step-" + std::to_string(n)) / "summary.json").string())
                    .ok());
  }
  ASSERT_TRUE(write_file_atomic((dir / "sweep.csv").string(), sweep_csv(o, true)).ok());
  auto sw = load_report_sweep(dir.string());
  ASSERT_TRUE(sw.ok()) << sw.error();
  ASSERT_EQ(sw->steps.size(), 3u);
  EXPECT_EQ(sw->steps[0].label, "concurrency 1");
  EXPECT_EQ(sw->steps[2].label, "concurrency 8");
  const SweepCurve& c = sw->curve;
  EXPECT_EQ(c.label, dir.filename().string());
  EXPECT_TRUE(c.concurrency);
  EXPECT_EQ(c.latency_variable, "ttft.p95");
  ASSERT_TRUE(c.slo_ms);
  EXPECT_DOUBLE_EQ(*c.slo_ms, 500);
  ASSERT_EQ(c.points.size(), 3u);
  ASSERT_TRUE(c.knee);
  EXPECT_EQ(c.points[*c.knee].level, 4);

  std::ofstream(dir / "sweep.csv") << "level,foo\n1,2\n";
  auto bad = load_report_sweep(dir.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("sweep.csv:1"), std::string::npos) << bad.error();
  auto none = load_report_sweep((dir / "missing").string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("sweep.csv"), std::string::npos) << none.error();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace llmload::analysis
