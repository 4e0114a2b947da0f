// What people read at the end of a run, end to end through the binary: the terminal summary's
// per-group table with the rating (aligned, within 80 columns, colour only on a terminal), and a
// sweep's report.html with the throughput-versus-latency curve, the SLO line and the knee (also
// rebuilt by `llmload report SWEEPDIR`).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/integration/mock_test_util.h"
#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;

using llmload_test::fresh_dir;
using llmload_test::shell;
using llmload_test::slurp;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// Two models on the built-in mock; the fast one is excellent, the slow one (TTFT 1.2 s) good.
void write_two_models(const fs::path& path) {
  std::ofstream(path) << R"(name: summary-table
targets:
  - name: fast
    url: mock
    api: openai-chat
    model: fast-model
    headers: {x-mock-ttft: 20ms, x-mock-itl: 2ms}
  - name: slow
    url: mock
    api: openai-chat
    model: slow-model
    headers: {x-mock-ttft: 1200ms, x-mock-itl: 2ms}
load:
  concurrency: 8
  requests: 16
prompts:
  source: synthetic
  input_tokens: {dist: fixed, value: 16}
output:
  max_tokens: 16
)";
}

TEST(ReportCli, SummaryTableRatesEachGroupWithinEightyColumns) {
  fs::path dir = fresh_dir("llmload_summary_table");
  write_two_models(dir / "s.yaml");
  auto cmd = [&](const char* out) {
    return std::string(LLMLOAD_BINARY) + " run " + (dir / "s.yaml").string() + " --out " +
           (dir / out).string() + " --no-report";
  };
  ASSERT_EQ(shell(cmd("out") + " > " + (dir / "log").string() + " 2>&1"), 0) << slurp(dir / "log");
  const std::string log = slurp(dir / "log");
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "colour on a file";
  auto ls = lines_of(log);
  size_t head = 0;
  while (head < ls.size() && ls[head].rfind("group ", 0) != 0) ++head;
  ASSERT_LT(head + 3, ls.size()) << log;
  const size_t rating_col = ls[head].find("rating");
  ASSERT_NE(rating_col, std::string::npos);
  std::map<std::string, std::string> rating;
  for (size_t i = head + 1; i <= head + 3; ++i)
    rating[ls[i].substr(0, ls[i].find(' '))] = ls[i].substr(rating_col);
  EXPECT_EQ(rating["fast-model"], "excellent") << log;
  EXPECT_EQ(rating["slow-model"], "good") << log;
  EXPECT_EQ(rating.count("total"), 1u) << log;
  // The tables of the summary (from "run ..." to "results:") fit in 80 columns.
  bool in_summary = false;
  for (const std::string& l : ls) {
    if (l.rfind("run ", 0) == 0) in_summary = true;
    if (in_summary && l.rfind("results:", 0) != 0) {
      EXPECT_LE(l.size(), 80u) << l;
    }
  }

  // On a terminal (a pty from script(1)) the rating is coloured; NO_COLOR turns it off.
  ASSERT_EQ(shell("command -v script > /dev/null"), 0) << "script(1) (util-linux) is needed";
  const std::string tty = "script -qec \"" + cmd("out2") + "\" /dev/null < /dev/null > " +
                          (dir / "tty").string() + " 2>&1";
  ASSERT_EQ(shell(tty), 0) << slurp(dir / "tty");
  EXPECT_NE(slurp(dir / "tty").find("\x1b[1;32mexcellent\x1b[0m"), std::string::npos)
      << slurp(dir / "tty");
  ASSERT_EQ(shell("NO_COLOR=1 " + tty), 0) << slurp(dir / "tty");
  EXPECT_EQ(slurp(dir / "tty").find("\x1b[1;32m"), std::string::npos) << slurp(dir / "tty");
}

// With --max-streams 4 the mock queues a fifth stream for a whole response: TTFT p99 stays near
// 20 ms up to concurrency 4 and passes 60 ms beyond (as in sweep_test.cpp).
TEST(ReportCli, SweepReportShowsTheCurveTheSloAndTheKnee) {
  mocktest::MockProcess mock(
      {"--max-streams", "4", "--over-capacity", "queue", "--ttft", "20ms", "--itl", "5ms"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines() << mock.stderr_text();
  fs::path dir = fresh_dir("llmload_sweep_report");
  std::ofstream(dir / "sweep.yaml") << "name: knee\ntarget:\n  url: " << mock.url()
                                    << "\n  api: openai-chat\n  model: m\n"
                                       "load:\n  concurrency: 1\n  requests: 40\n  grace: 5s\n"
                                       "prompts:\n  source: synthetic\n"
                                       "  input_tokens: {dist: fixed, value: 16}\n"
                                       "output:\n  max_tokens: 10\n";
  const fs::path out = dir / "out";
  ASSERT_EQ(shell(std::string(LLMLOAD_BINARY) + " sweep " + (dir / "sweep.yaml").string() +
                  " --concurrency 1,4,8 --assert 'ttft.p99 < 60ms' --out " + out.string() +
                  " --quiet > " + (dir / "log").string() + " 2>&1"),
            0)
      << slurp(dir / "log");
  auto check = [](const std::string& html, const std::string& what) {
    size_t at = html.find("id=\"sweep-curve\"");
    ASSERT_NE(at, std::string::npos) << what;
    std::string svg = html.substr(at, html.find("</svg>", at) - at);
    std::regex poly("<polyline class=\"series\" data-series=\"[^\"]*\"[^>]*points=\"([^\"]*)\"");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, poly)) << what;
    const std::string pts = m[1];
    EXPECT_EQ(std::count(pts.begin(), pts.end(), ','), 3) << what << ": " << pts;
    EXPECT_NE(svg.find("<line class=\"slo\""), std::string::npos) << what;
    EXPECT_NE(svg.find("SLO ttft.p99 &lt; 60ms"), std::string::npos) << what;
    EXPECT_NE(svg.find(">capacity: concurrency 4</text>"), std::string::npos) << what;
    size_t knees = 0;
    for (size_t p = svg.find("<circle class=\"knee\""); p != std::string::npos;
         p = svg.find("<circle class=\"knee\"", p + 1))
      ++knees;
    EXPECT_EQ(knees, 1u) << what;
    EXPECT_NE(html.find("<tr class=\"knee\"><td class=\"l\">"), std::string::npos) << what;
  };
  check(slurp(out / "report.html"), "sweep's report.html");
  ASSERT_EQ(shell(std::string(LLMLOAD_BINARY) + " report " + out.string() + " --out " +
                  (dir / "again.html").string() + " > " + (dir / "log2").string() + " 2>&1"),
            0)
      << slurp(dir / "log2");
  check(slurp(dir / "again.html"), "llmload report SWEEPDIR");
}

}  // namespace
