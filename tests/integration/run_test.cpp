// `llmload run`, the README's main command, end to end as a real process: the built-in mock,
// the embedded coordinator and a local worker over inproc://, and the files of --out.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/hdr_histogram.h"
#include "common/hdr_log.h"
#include "common/metrics.h"
#include "tests/integration/process_util.h"

namespace {

using llmload_test::run_to_end;
using llmload_test::slurp;
using llmload_test::test_dir;
using llmload_test::kQuickstart;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// The quickstart's `load.requests`.
int64_t quickstart_requests() {
  std::smatch m;
  const std::string text = slurp(kQuickstart);
  if (!std::regex_search(text, m, std::regex("\\n  requests: ([0-9]+)"))) return -1;
  return std::stoll(m[1].str());
}

// The quickstart run as the README says, to its own request limit.
TEST(RunSmoke, Quickstart) {
  const int64_t requests = quickstart_requests();
  ASSERT_GT(requests, 0) << "load.requests not found in " << kQuickstart;
  const std::string out = test_dir("run") + "/quickstart";
  auto [code, log] =
      run_to_end({"llmload", "run", kQuickstart, "--out", out, "--quiet", "--no-report"},
                 test_dir("run") + "/quickstart.log", 120);
  ASSERT_EQ(code, 0) << log;
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["run"]["status"], "completed");
  // The built-in mock lists the scenario's model: the pre-flight has nothing to warn about.
  // (Other warnings may come: a loaded or sanitized client may call itself saturated.)
  for (const auto& w : j["run"]["warnings"]) {
    EXPECT_EQ(w.get<std::string>().find("not in the server's list"), std::string::npos) << w;
  }
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), requests);
  EXPECT_EQ(j["totals"]["failed"].get<int64_t>(), 0);
  EXPECT_EQ(j["metrics"]["ttft"]["count"].get<int64_t>(), requests);
  // summary.csv: a header and at least one row.
  EXPECT_GE(lines_of(slurp(out + "/summary.csv")).size(), 2u);
  // timeseries.csv: a header and at least one interval.
  EXPECT_GE(lines_of(slurp(out + "/timeseries.csv")).size(), 2u);

  // histograms.hlog: the intervals tagged `ttft` add up to the summary's ttft histogram, and
  // every per-group tag (`ttft.<group>`) adds up to it too (one group here).
  auto hlog = llmload::read_hdr_log_file(out + "/histograms.hlog");
  ASSERT_TRUE(hlog.ok()) << hlog.error();
  auto summary_ttft =
      llmload::HdrHistogram::from_base64(j["metrics"]["ttft"]["hdr"].get<std::string>());
  ASSERT_TRUE(summary_ttft.ok()) << summary_ttft.error();
  llmload::HdrHistogram total = llmload::make_histogram(llmload::Metric::kTtft);
  llmload::HdrHistogram grouped = llmload::make_histogram(llmload::Metric::kTtft);
  int total_lines = 0, group_lines = 0;
  for (const auto& h : hlog->intervals) {
    ASSERT_TRUE(llmload::hdr_log_tag_valid(h.tag)) << h.tag;
    EXPECT_LE(h.start_time_ms, h.end_time_ms);
    if (h.tag == "ttft") {
      total.add(h);
      ++total_lines;
    } else if (h.tag.rfind("ttft.", 0) == 0) {
      grouped.add(h);
      ++group_lines;
    }
  }
  EXPECT_GE(total_lines, 1);
  EXPECT_EQ(group_lines, total_lines);
  EXPECT_EQ(total.total_count(), requests);
  EXPECT_TRUE(total == *summary_ttft);
  EXPECT_TRUE(grouped == *summary_ttft);
}

TEST(Run, RequestsCsvHasOneRowPerRequest) {
  const std::string out = test_dir("run") + "/requests";
  auto [code, log] = run_to_end({"llmload", "run", kQuickstart, "--out", out, "--quiet",
                                 "--no-report", "--requests", "40", "--requests-csv"},
                                test_dir("run") + "/requests.log", 120);
  ASSERT_EQ(code, 0) << log;
  auto rows = lines_of(slurp(out + "/requests.csv"));
  ASSERT_EQ(rows.size(), 41u) << "header + one row per request";
  EXPECT_EQ(rows[0].rfind("request_id,", 0), 0u) << rows[0];
  std::set<std::string> ids;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::string id = rows[i].substr(0, rows[i].find(','));
    EXPECT_FALSE(id.empty()) << rows[i];
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 40u) << "request ids are unique";
}

TEST(Run, BadScenarioExits2NamingTheFile) {
  const std::string dir = test_dir("run");
  const std::string bad = dir + "/bad.yaml";
  std::ofstream(bad) << "name: bad\ntarget:\n  url: mock\n  api: openai-chat\nload:\n"
                        "  concurrency: -3\n  requests: 10\n";
  auto [code, log] = run_to_end({"llmload", "run", bad, "--out", dir + "/bad-out", "--quiet"},
                                dir + "/bad.log", 60);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("bad.yaml"), std::string::npos) << log;
}

// Refused at pre-flight: exit 2 naming the target, only the reason printed (no 0-request
// summary table), and no results folder left behind (no load was sent).
TEST(Run, UnreachableTargetExits2NamingTheTargetAndLeavesNothing) {
  const std::string dir = test_dir("run");
  auto [code, log] = run_to_end({"llmload", "run", kQuickstart, "--target", "http://127.0.0.1:1",
                                 "--out", dir + "/unreachable"},
                                dir + "/unreachable.log", 60);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("127.0.0.1:1"), std::string::npos) << log;
  EXPECT_EQ(log.find("requests 0"), std::string::npos) << "a 0-request summary: " << log;
  EXPECT_EQ(log.find("results:"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/unreachable")) << "an empty results folder";
}

// A mistyped flag is refused (exit 2) with the closest real one, as a mistyped field is.
TEST(Run, AMistypedFlagGetsADidYouMean) {
  const std::string dir = test_dir("run");
  auto [code, log] =
      run_to_end({"llmload", "run", kQuickstart, "--concurency", "5", "--out", dir + "/typo"},
                 dir + "/typo.log", 60);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("unknown option --concurency: did you mean --concurrency?"), std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/typo"));
  auto [code2, log2] = run_to_end(
      {"llmload", "coordinator", kQuickstart, "--workers", "1", "--prefligt-timeout", "5s"},
      dir + "/typo2.log", 60);
  EXPECT_EQ(code2, 2) << log2;
  EXPECT_NE(log2.find("did you mean --preflight-timeout?"), std::string::npos) << log2;
}

// summary.json's run.duration_s is the measured window's real length (DESIGN.md "Results"):
// a run that ends by its request count lasts until its last measured request ended (the
// requests' own span in requests.csv), one that ends by its duration lasts exactly that. Three
// runs each, with two loops and 1,000 streams (closing 1,000 connections takes long enough
// that the old fault, empty intervals invented while the pools closed, showed in most runs).
struct CsvSpan {
  double first_start_ms = 1e300, last_start_ms = -1e300, last_end_ms = -1e300;
  size_t rows = 0;
};

// One CSV line's fields (RFC 4180 quoting: the group column holds commas).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> f(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      f.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      f.emplace_back();
    } else {
      f.back() += c;
    }
  }
  return f;
}

CsvSpan span_of(const std::string& csv) {
  CsvSpan s;
  auto rows = lines_of(slurp(csv));
  if (rows.empty()) return s;
  const std::vector<std::string> head = csv_fields(rows[0]);
  auto col = [&](const std::string& name) {
    return size_t(std::find(head.begin(), head.end(), name) - head.begin());
  };
  const size_t start = col("start_ms"), e2e = col("e2e_ms");
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> f = csv_fields(rows[i]);
    if (f.size() <= e2e || f[e2e].empty()) continue;
    const double st = std::stod(f[start]);
    s.first_start_ms = std::min(s.first_start_ms, st);
    s.last_start_ms = std::max(s.last_start_ms, st);
    s.last_end_ms = std::max(s.last_end_ms, st + std::stod(f[e2e]));
    ++s.rows;
  }
  return s;
}

TEST(Run, DurationIsTheRequestsOwnSpanWhenTheRequestCountEndsIt) {
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("run " + std::to_string(i + 1));
    const std::string out = test_dir("run") + "/span-count-" + std::to_string(i);
    auto [code, log] = run_to_end(
        {"llmload", "run", kQuickstart, "--out", out, "--quiet", "--no-report", "--threads", "2",
         "--concurrency", "1000", "--requests", "2000", "--requests-csv"},
        out + ".log", 120);
    ASSERT_EQ(code, 0) << log;
    auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
    const double duration_s = j["run"]["duration_s"].get<double>();
    const CsvSpan s = span_of(out + "/requests.csv");
    ASSERT_EQ(s.rows, 2000u);
    // The window opens at the start instant (the first request starts then, or a connection
    // wait later) and closes as the last measured request ends.
    EXPECT_GE(s.first_start_ms, 0.0);
    EXPECT_NEAR(duration_s * 1000, s.last_end_ms, 20.0)
        << "duration_s " << duration_s << " vs the requests' span " << s.last_end_ms << " ms";
    EXPECT_NEAR(j["totals"]["requests_per_s"].get<double>(), 2000 / duration_s, 1e-6);
    // No interval is invented past the end: the time series stops with the window.
    auto ts = lines_of(slurp(out + "/timeseries.csv"));
    ASSERT_GE(ts.size(), 2u);
    const double last_elapsed = std::stod(csv_fields(ts.back())[0]);
    // (its last row closes as the loops shut down, just after the last request ended)
    EXPECT_LE(last_elapsed, duration_s + 0.05) << ts.back();
  }
}

TEST(Run, DurationIsTheLimitWhenTheDurationEndsIt) {
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("run " + std::to_string(i + 1));
    const std::string out = test_dir("run") + "/span-duration-" + std::to_string(i);
    auto [code, log] =
        run_to_end({"llmload", "run", kQuickstart, "--out", out, "--quiet", "--no-report",
                    "--threads", "2", "--rate", "100", "--duration", "3s", "--requests-csv"},
                   out + ".log", 120);
    ASSERT_EQ(code, 0) << log;
    auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
    const double duration_s = j["run"]["duration_s"].get<double>();
    EXPECT_NEAR(duration_s, 3.0, 0.005);
    const CsvSpan s = span_of(out + "/requests.csv");
    EXPECT_NEAR(double(s.rows), 300.0, 2.0);  // 100/s for 3 s, every one measured
    EXPECT_LT(s.last_start_ms, 3000.0);       // measured iff intended to start in the window
    EXPECT_GT(s.last_end_ms, 3000.0);         // the last ones finish in the grace, still counted
  }
}

}  // namespace
