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

#include "common/results_csv.h"
#include "common/results_json.h"

namespace llmload {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

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
  ASSERT_EQ(sh("command -v chromium >/dev/null"), 0)
      << "chromium not found: scripts/test.sh installs Debian's chromium package";
  fs::path tmp = fs::path(::testing::TempDir()) / "llmload_report_browser";
  fs::remove_all(tmp);
  fs::path results = make_results(tmp / "run");
  fs::path html = tmp / "report.html";
  ASSERT_EQ(sh(std::string(LLMLOAD_BINARY) + " report " + results.string() + " --out " +
               html.string() + " > " + (tmp / "report.log").string() + " 2>&1"),
            0)
      << slurp(tmp / "report.log");

  fs::path artifacts = fs::path(LLMLOAD_BINARY).parent_path() / "tests" / "artifacts";
  fs::create_directories(artifacts);
  fs::path shot = artifacts / "report.png";
  std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir=" + (tmp / "profile").string() + " --enable-logging=stderr --v=0 ";
  std::string url = "file://" + html.string();
  int rc = sh("timeout 90 chromium" + flags + "--dump-dom " + url + " > " +
              (tmp / "dom.html").string() + " 2> " + (tmp / "console.log").string());
  sh("timeout 90 chromium" + flags + "--window-size=1280,2400 --screenshot=" + shot.string() +
     " " + url + " > /dev/null 2>&1");
  ASSERT_EQ(rc, 0) << "chromium failed; screenshot: " << shot << "\n" << slurp(tmp / "console.log");

  std::string dom = slurp(tmp / "dom.html");
  std::string console = slurp(tmp / "console.log");
  // Console messages from the page are logged as "CONSOLE(...)" / "Uncaught" lines.
  std::regex page_error("(CONSOLE\\(|Uncaught|:ERROR:CONSOLE)");
  EXPECT_FALSE(std::regex_search(console, page_error))
      << "console errors (screenshot " << shot << "):\n" << console;
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
  EXPECT_TRUE(fs::exists(shot) && fs::file_size(shot) > 10'000) << "no screenshot at " << shot;
}

}  // namespace
}  // namespace llmload
