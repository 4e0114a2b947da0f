// The target's /metrics scraped during `llmload run` (docs/metrics.md "Target metrics"), end to
// end as real processes: the mock's own llama.cpp-style page, a DCGM exporter's page served by
// the mock from a fixture, and a metrics URL nobody answers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/process_util.h"

namespace {

using llmload_test::kQuickstart;
using llmload_test::Proc;
using llmload_test::run_to_end;
using llmload_test::slurp;
using llmload_test::test_dir;

const std::string kDcgmFixture =
    std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/metrics/dcgm-exporter.txt";

std::vector<std::string> csv_header(const std::string& text) {
  std::vector<std::string> cols;
  std::string line = text.substr(0, text.find('\n'));
  std::string col;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        col += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      cols.push_back(col);
      col.clear();
    } else {
      col += c;
    }
  }
  cols.push_back(col);
  return cols;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

nlohmann::json run(const std::string& name, std::vector<std::string> extra, int& code,
                   std::string& log) {
  const std::string out = test_dir("target-metrics") + "/" + name;
  std::vector<std::string> args = {"llmload", "run",        kQuickstart,   "--out",
                                   out,       "--quiet",    "--no-report", "--requests",
                                   "48",      "--interval", "300ms"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto [c, l] = run_to_end(args, test_dir("target-metrics") + "/" + name + ".log", 120);
  code = c;
  log = l;
  return nlohmann::json::parse(slurp(out + "/summary.json"), nullptr, false);
}

// The built-in mock's own /metrics: its counters in summary.json and timeseries.csv, and the
// server's output-token delta equal to the output tokens llmload counted.
TEST(TargetMetrics, MockPageSeriesAndTokenDelta) {
  int code = 0;
  std::string log;
  auto j = run("mock", {"--target-metrics", "mock"}, code, log);
  ASSERT_EQ(code, 0) << log;
  ASSERT_TRUE(j.is_object()) << log;
  const auto& t = j["target"];
  EXPECT_NE(t["metrics_url"].get<std::string>().find("/metrics"), std::string::npos);
  EXPECT_GE(t["scrapes"].get<int64_t>(), 2);
  EXPECT_EQ(t["failed_scrapes"].get<int64_t>(), 0);
  const int64_t ours = j["totals"]["output_tokens"].get<int64_t>();
  ASSERT_GT(ours, 0);
  EXPECT_EQ(t["server_output_tokens"].get<double>(), double(ours));
  EXPECT_TRUE(t["output_tokens_per_joule"].is_null());  // no energy counter on this page

  const auto& series = j["target_metrics"];
  for (const char* s : {"llamacpp:tokens_predicted_total", "llamacpp:prompt_tokens_total",
                        "llamacpp:requests_processing", "llamacpp:requests_deferred"}) {
    ASSERT_TRUE(series.contains(s)) << s << "\n" << series.dump(2);
  }
  const auto& tokens = series["llamacpp:tokens_predicted_total"];
  EXPECT_EQ(tokens["first"].get<double>(), 0);  // scraped before any load
  EXPECT_EQ(tokens["last"].get<double>(), double(ours));
  // 16 in flight at most: the processing gauge never says more.
  EXPECT_LE(series["llamacpp:requests_processing"]["max"].get<double>(), 16);
  for (const auto& w : j["run"]["warnings"])
    EXPECT_EQ(w.get<std::string>().find("target metrics"), std::string::npos) << w;

  const std::string ts = slurp(test_dir("target-metrics") + "/mock/timeseries.csv");
  const auto cols = csv_header(ts);
  EXPECT_TRUE(has(cols, "elapsed_s"));
  EXPECT_TRUE(has(cols, "llamacpp:requests_processing")) << ts.substr(0, 400);
  EXPECT_TRUE(has(cols, "llamacpp:tokens_predicted_total"));

  // The report charts the server's series beside our TTFT, from timeseries.csv.
  const std::string html = test_dir("target-metrics") + "/mock-report.html";
  auto [rc, rlog] =
      run_to_end({"llmload", "report", test_dir("target-metrics") + "/mock", "--out", html},
                 test_dir("target-metrics") + "/mock-report.log", 60);
  ASSERT_EQ(rc, 0) << rlog;
  const std::string page = slurp(html);
  EXPECT_NE(page.find("id=\"ts-ttft\""), std::string::npos);
  EXPECT_NE(page.find("target: llamacpp:requests_processing"), std::string::npos);
}

// Two local workers: only the first scrapes, so the run has at most one scrape per report of
// that worker (its intervals and its final report), and the token delta is still the run's.
TEST(TargetMetrics, OnlyTheFirstWorkerScrapes) {
  int code = 0;
  std::string log;
  auto j = run("two-workers", {"--target-metrics", "mock", "--workers", "2", "--threads", "1"},
               code, log);
  ASSERT_EQ(code, 0) << log;
  ASSERT_TRUE(j.is_object()) << log;
  ASSERT_EQ(j["run"]["workers"].size(), 2u);
  std::stringstream ts(slurp(test_dir("target-metrics") + "/two-workers/timeseries.csv"));
  int64_t rows = -1;  // the header is not a row
  for (std::string line; std::getline(ts, line);) rows += !line.empty();
  ASSERT_GE(rows, 2);
  const int64_t scrapes = j["target"]["scrapes"].get<int64_t>();
  EXPECT_GE(scrapes, 2);
  EXPECT_LE(scrapes, rows + 1) << "more scrapes than the first worker's reports";
  EXPECT_EQ(j["target"]["server_output_tokens"].get<double>(),
            double(j["totals"]["output_tokens"].get<int64_t>()));
}

// A metrics URL that nobody answers: a warning naming it, never a failed run.
TEST(TargetMetrics, UnreachableUrlIsAWarning) {
  int code = 0;
  std::string log;
  const std::string url = "http://127.0.0.1:1/metrics";
  auto j = run("unreachable", {"--target-metrics", url}, code, log);
  ASSERT_EQ(code, 0) << log;
  ASSERT_TRUE(j.is_object()) << log;
  EXPECT_EQ(j["run"]["status"], "completed");
  EXPECT_EQ(j["target"]["scrapes"].get<int64_t>(), 0);
  EXPECT_GE(j["target"]["failed_scrapes"].get<int64_t>(), 1);
  EXPECT_TRUE(j["target_metrics"].empty());
  bool warned = false;
  for (const auto& w : j["run"]["warnings"]) {
    const std::string s = w.get<std::string>();
    warned = warned || (s.find(url) != std::string::npos && s.find("failed") != std::string::npos);
  }
  EXPECT_TRUE(warned) << j["run"]["warnings"].dump();
}

// A metrics endpoint that takes the connection and never answers: each scrape times out on the
// scraper's own thread, the load and the heartbeats go on, the run completes with a warning.
TEST(TargetMetrics, SilentEndpointNeverHoldsTheRun) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 64), 0);  // never accepted: connects succeed, nothing is answered
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/metrics";
  int code = 0;
  std::string log;
  auto j = run("silent", {"--target-metrics", url}, code, log);
  ::close(fd);
  ASSERT_EQ(code, 0) << log;
  ASSERT_TRUE(j.is_object()) << log;
  EXPECT_EQ(j["totals"]["failed"].get<int64_t>(), 0);
  EXPECT_EQ(j["target"]["scrapes"].get<int64_t>(), 0);
  EXPECT_GE(j["target"]["failed_scrapes"].get<int64_t>(), 1);
  EXPECT_NE(j["target"]["first_error"].get<std::string>().find("no answer within 300 ms"),
            std::string::npos)
      << j["target"].dump();
}

// A DCGM exporter's page (a fixture served by a mock process, page 1 first, page 2 after):
// output tokens per joule = our output tokens / the fixture's energy delta (1,000 J).
TEST(TargetMetrics, DcgmPageGivesTokensPerJoule) {
  Proc mock;
  const std::string base = llmload_test::start_mock(
      mock, test_dir("target-metrics") + "/dcgm-mock.log", {"--metrics-extra", kDcgmFixture});
  ASSERT_FALSE(base.empty()) << slurp(test_dir("target-metrics") + "/dcgm-mock.log");
  int code = 0;
  std::string log;
  auto j = run("dcgm", {"--target", base, "--target-metrics", base + "/metrics"}, code, log);
  ASSERT_EQ(code, 0) << log;
  ASSERT_TRUE(j.is_object()) << log;
  const int64_t ours = j["totals"]["output_tokens"].get<int64_t>();
  ASSERT_GT(ours, 0);
  const auto& t = j["target"];
  EXPECT_DOUBLE_EQ(t["energy_j"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(t["output_tokens_per_joule"].get<double>(), double(ours) / 1000.0);
  EXPECT_EQ(t["server_output_tokens"].get<double>(), double(ours));

  const std::string gpu0 =
      "{DCGM_FI_DRIVER_VERSION=\"535.104.05\",Hostname=\"gpu-node-1\","
      "UUID=\"GPU-00000000-aaaa-bbbb-cccc-dddddddddddd\",device=\"nvidia0\",gpu=\"0\","
      "modelName=\"NVIDIA A100-SXM4-80GB\"}";
  const auto& series = j["target_metrics"];
  ASSERT_TRUE(series.contains("DCGM_FI_DEV_GPU_UTIL" + gpu0)) << series.dump(2);
  EXPECT_EQ(series["DCGM_FI_DEV_GPU_UTIL" + gpu0]["first"].get<double>(), 0);
  EXPECT_EQ(series["DCGM_FI_DEV_GPU_UTIL" + gpu0]["last"].get<double>(), 87);
  EXPECT_EQ(series["DCGM_FI_DEV_FB_USED" + gpu0]["max"].get<double>(), 61440);
  EXPECT_EQ(series["DCGM_FI_DEV_POWER_USAGE" + gpu0]["last"].get<double>(), 312.5);
}

}  // namespace
