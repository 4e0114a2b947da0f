// The HTML report in a real browser: Debian's chromium, headless, loads the page from a file.
// The page must render with no console errors and its charts must hold the expected series.
// A screenshot is kept in the build tree (tests/artifacts/) for a person to look at, and named
// in the failure message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "analysis/gates/sweep.h"
#include "common/results_csv.h"
#include "common/results_json.h"
#include "tests/integration/process_util.h"

namespace llmload::analysis {
namespace {

namespace fs = std::filesystem;

using llmload_test::shell;
using llmload_test::slurp;

fs::path make_results(const fs::path& dir) {
  RunResult r;
  r.run.id = "browser-run";
  r.run.duration_s = 5;
  r.run.started_at = "2026-11-23T19:00:00.000Z";
  r.run.version = "test";
  for (const char* model : {"alpha", "beta"}) {
    GroupStats g(Labels{{"model", model}, {"target", "mock"}});
    for (int i = 0; i < 500; ++i) {
      g.record(Metric::kTtft, 40'000 + i * 37 + (model[0] == 'b' ? 20'000 : 0));
      g.record(Metric::kItl, 9'000 + i);
      g.record(Metric::kTpot, 10'000 + i);
      g.record(Metric::kE2e, 400'000 + i * 100);
      g.record(Metric::kDecodeTps, 95 + i % 10);
    }
    g.counters.requests = g.counters.ok = 500;
    r.groups.push_back(GroupResult{g, std::nullopt});
  }
  recompute_total(r);
  // Two stages: the time-series charts mark where they end (2 s, 4 s).
  r.run.scenario = nlohmann::json::parse(
      R"({"load":{"mode":"concurrency","stages":[{"duration":"2s","concurrency":4},
          {"duration":"2s","concurrency":8}]}})");
  fs::create_directories(dir);
  EXPECT_TRUE(write_summary_json(r, (dir / "summary.json").string()).ok());
  std::vector<IntervalRow> rows;
  for (int i = 1; i <= 5; ++i) {
    IntervalRow row;
    row.elapsed_s = i;
    row.interval_s = 1;
    row.requests = 200;
    row.ok = 200;
    row.requests_per_s = 200;
    row.output_tokens_per_s = 2000 + 10 * i;
    row.in_flight = 8;
    row.ttft_p50_ms = 50;
    row.ttft_p99_ms = 60;
    rows.push_back(row);
  }
  std::ofstream(dir / "timeseries.csv") << timeseries_csv(rows);
  return dir;
}

TEST(ReportBrowser, RendersInHeadlessChromiumWithoutConsoleErrors) {
  ASSERT_EQ(shell("command -v chromium >/dev/null"), 0)
      << "chromium not found: scripts/test.sh installs Debian's chromium package";
  fs::path tmp = fs::path(::testing::TempDir()) / "llmload_report_browser";
  fs::remove_all(tmp);
  fs::path results = make_results(tmp / "run");
  fs::path html = tmp / "report.html";
  ASSERT_EQ(shell(std::string(LLMLOAD_BINARY) + " report " + results.string() + " --out " +
                  html.string() + " > " + (tmp / "report.log").string() + " 2>&1"),
            0)
      << slurp(tmp / "report.log");

  fs::path artifacts = fs::path(LLMLOAD_BINARY).parent_path() / "tests" / "artifacts";
  fs::create_directories(artifacts);
  fs::path shot = artifacts / "report.png";
  std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir=" +
      (tmp / "profile").string() + " --enable-logging=stderr --v=0 ";
  std::string url = "file://" + html.string();
  int rc = shell("timeout 90 chromium" + flags + "--dump-dom " + url + " > " +
                 (tmp / "dom.html").string() + " 2> " + (tmp / "console.log").string());
  shell("timeout 90 chromium" + flags + "--window-size=1280,2400 --screenshot=" + shot.string() +
        " " + url + " > /dev/null 2>&1");
  ASSERT_EQ(rc, 0) << "chromium failed; screenshot: " << shot << "\n" << slurp(tmp / "console.log");

  std::string dom = slurp(tmp / "dom.html");
  std::string console = slurp(tmp / "console.log");
  // Console messages from the page are logged as "CONSOLE(...)" / "Uncaught" lines.
  std::regex page_error("(CONSOLE\\(|Uncaught|:ERROR:CONSOLE)");
  EXPECT_FALSE(std::regex_search(console, page_error))
      << "console errors (screenshot " << shot << "):\n"
      << console;
  for (const char* id : {"spectrum-ttft", "spectrum-itl", "spectrum-tpot", "spectrum-e2e",
                         "ts-throughput", "ts-tokens", "ts-inflight", "ts-ttft", "headline"})
    EXPECT_NE(dom.find(std::string("id=\"") + id + "\""), std::string::npos)
        << "missing #" << id << " (screenshot " << shot << ")";
  // The TTFT spectrum has one line per model, each with many points.
  size_t start = dom.find("id=\"spectrum-ttft\"");
  ASSERT_NE(start, std::string::npos);
  std::string chart = dom.substr(start, dom.find("</svg>", start) - start);
  std::regex poly("data-series=\"([^\"]+)\"[^>]*points=\"([^\"]+)\"");
  std::vector<std::string> names;
  for (std::sregex_iterator it(chart.begin(), chart.end(), poly), end; it != end; ++it) {
    names.push_back((*it)[1]);
    std::string pts = (*it)[2];
    EXPECT_GT(std::count(pts.begin(), pts.end(), ','), 20) << (*it)[1];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "beta"})) << "screenshot " << shot;
  // Stage boundaries on the time series, as the browser parsed them.
  start = dom.find("id=\"ts-throughput\"");
  ASSERT_NE(start, std::string::npos);
  chart = dom.substr(start, dom.find("</svg>", start) - start);
  EXPECT_NE(chart.find("class=\"marker\" data-x=\"2\""), std::string::npos) << chart;
  EXPECT_NE(chart.find("class=\"marker\" data-x=\"4\""), std::string::npos) << chart;
  EXPECT_TRUE(fs::exists(shot) && fs::file_size(shot) > 10'000) << "no screenshot at " << shot;
}

// A sweep's directory (sweep.csv + a results directory per step) rendered by the browser: the
// curve has one point per step, the SLO line and one knee marker.
TEST(ReportBrowser, SweepCurveRendersWithTheKnee) {
  ASSERT_EQ(shell("command -v chromium >/dev/null"), 0)
      << "chromium not found: scripts/test.sh installs Debian's chromium package";
  fs::path tmp = fs::path(::testing::TempDir()) / "llmload_report_browser_sweep";
  fs::remove_all(tmp);
  SweepOutcome o;
  const double levels[] = {1, 2, 4, 8};
  for (int i = 0; i < 4; ++i) {
    SweepStep st;
    st.level = levels[i];
    const int64_t ttft_us = 50'000 * (i + 1) * (i + 1);  // 50, 200, 450, 800 ms
    st.exit_code = ttft_us < 500'000 ? 0 : 3;
    st.out_dir = "step-" + std::to_string(i + 1);
    RunResult& r = st.result;
    r.run.id = st.out_dir;
    r.run.duration_s = 5;
    GroupStats g(Labels{{"model", "m"}, {"target", "mock"}});
    for (int k = 0; k < 50; ++k) g.record(Metric::kTtft, ttft_us + k);
    g.counters.requests = g.counters.ok = 100 * (i + 1);
    g.counters.output_tokens = 1000 * (i + 1);
    r.groups.push_back(GroupResult{g, std::nullopt});
    recompute_total(r);
    r.assertions.push_back({"ttft.p99 < 500ms", double(ttft_us) / 1000, st.exit_code == 0});
    fs::create_directories(tmp / "sweep" / st.out_dir);
    ASSERT_TRUE(write_summary_json(r, (tmp / "sweep" / st.out_dir / "summary.json").string()).ok());
    o.steps.push_back(std::move(st));
  }
  std::ofstream(tmp / "sweep" / "sweep.csv") << sweep_csv(o, true);
  fs::path html = tmp / "report.html";
  ASSERT_EQ(shell(std::string(LLMLOAD_BINARY) + " report " + (tmp / "sweep").string() + " --out " +
                  html.string() + " > " + (tmp / "report.log").string() + " 2>&1"),
            0)
      << slurp(tmp / "report.log");
  fs::path artifacts = fs::path(LLMLOAD_BINARY).parent_path() / "tests" / "artifacts";
  fs::create_directories(artifacts);
  fs::path shot = artifacts / "report-sweep.png";
  std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir=" +
      (tmp / "profile").string() + " --enable-logging=stderr --v=0 ";
  std::string url = "file://" + html.string();
  int rc = shell("timeout 90 chromium" + flags + "--dump-dom " + url + " > " +
                 (tmp / "dom.html").string() + " 2> " + (tmp / "console.log").string());
  ASSERT_EQ(rc, 0) << "chromium failed\n" << slurp(tmp / "console.log");
  std::string dom = slurp(tmp / "dom.html");
  std::regex page_error("(CONSOLE\\(|Uncaught|:ERROR:CONSOLE)");
  const bool errors = std::regex_search(slurp(tmp / "console.log"), page_error);
  size_t start = dom.find("id=\"sweep-curve\"");
  const bool drawn = start != std::string::npos;
  std::string chart = drawn ? dom.substr(start, dom.find("</svg>", start) - start) : "";
  std::regex poly("data-series=\"[^\"]+\"[^>]*points=\"([^\"]+)\"");
  std::smatch m;
  const bool line = std::regex_search(chart, m, poly);
  const std::string pts = line ? m[1].str() : "";
  size_t knees = 0;
  for (size_t p = chart.find("<circle class=\"knee\""); p != std::string::npos;
       p = chart.find("<circle class=\"knee\"", p + 1))
    ++knees;
  const bool ok = !errors && drawn && line && std::count(pts.begin(), pts.end(), ',') == 4 &&
                  knees == 1 && chart.find("<line class=\"slo\"") != std::string::npos &&
                  chart.find(">capacity: concurrency 4</text>") != std::string::npos;
  if (!ok)  // keep a picture for a person to look at
    shell("timeout 90 chromium" + flags + "--window-size=1280,1600 --screenshot=" + shot.string() +
          " " + url + " > /dev/null 2>&1");
  EXPECT_FALSE(errors) << slurp(tmp / "console.log");
  ASSERT_TRUE(drawn) << "no #sweep-curve; screenshot " << shot;
  EXPECT_EQ(std::count(pts.begin(), pts.end(), ','), 4) << pts;
  EXPECT_EQ(knees, 1u) << chart;
  EXPECT_NE(chart.find("<line class=\"slo\""), std::string::npos) << chart;
  EXPECT_NE(chart.find(">capacity: concurrency 4</text>"), std::string::npos) << chart;
}

}  // namespace
}  // namespace llmload::analysis
