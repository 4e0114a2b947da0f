// `llmload run`, the README's main command, end to end as a real process: the built-in mock,
// the embedded coordinator and a local worker over inproc://, and the files of --out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/hdr_histogram.h"
#include "common/hdr_log.h"
#include "common/metrics.h"
#include "tests/integration/process_util.h"

namespace {

using llmload_test::run_to_end;
using llmload_test::slurp;
using llmload_test::test_dir;

const std::string kQuickstart = std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml";

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

TEST(Run, UnreachableTargetExits2NamingTheTarget) {
  const std::string dir = test_dir("run");
  auto [code, log] = run_to_end({"llmload", "run", kQuickstart, "--target", "http://127.0.0.1:1",
                                 "--out", dir + "/unreachable", "--quiet", "--no-report"},
                                dir + "/unreachable.log", 60);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("127.0.0.1:1"), std::string::npos) << log;
}

}  // namespace
