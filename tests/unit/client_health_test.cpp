// The client's own health per worker and for the run (issue 15 point 3): the wire key, the
// per-worker figures and their arithmetic, summary.json written and read back, `llmload merge`,
// the terminal line, the report's box and the process metrics on /metrics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "analysis/gates/merge.h"
#include "analysis/observe/prometheus.h"
#include "analysis/report/html_report.h"
#include "analysis/report/summary_table.h"
#include "common/cpu_usage.h"
#include "common/results.h"
#include "common/results_json.h"
#include "coordinator/live_merge.h"
#include "results_test_util.h"
#include "worker/wait_ready.h"

namespace llmload {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

ClientTiming timing(int64_t reads, int64_t kernel, int64_t values, int64_t uncertain,
                    int64_t lag_us) {
  ClientTiming t;
  t.token_reads = reads;
  t.token_reads_kernel = kernel;
  t.timing_values = values;
  t.timing_uncertain = uncertain;
  for (int i = 0; i < 100; ++i) t.loop_lag_us.record(lag_us);
  return t;
}

RunResult two_worker_run() {
  RunResult r = testing_util::sample_result();
  r.run.workers.clear();
  for (int i = 0; i < 2; ++i) {
    WorkerInfo w;
    w.id = "w" + std::to_string(i + 1);
    w.host = "box";
    w.threads = 2;
    w.totals.output_tokens = 1000;
    w.health = make_worker_health(timing(1500, i == 0 ? 1500 : 0, 2000, 100 * i, 300 + 700 * i),
                                  1000, 0.25 + 0.5 * i, 0.01, (40 + 24 * i) * kMiB);
    r.run.workers.push_back(w);
  }
  r.run.client.peak_rss_bytes = 64 * kMiB;
  return r;
}

TEST(WorkerHealth, FiguresFromWhatTheWorkerReported) {
  const WorkerHealth h =
      make_worker_health(timing(300, 100, 400, 40, 2'000), 200, 0.7, 0.02, 50 * kMiB);
  EXPECT_DOUBLE_EQ(h.reads_per_token, 1.5);  // 300 token reads for 200 output tokens
  EXPECT_NEAR(h.loop_lag_ms_p99, 2.0, 0.01);
  EXPECT_EQ(h.timestamps, "mixed");
  EXPECT_DOUBLE_EQ(h.timing_uncertain_share, 0.1);
  EXPECT_DOUBLE_EQ(h.cpu_busy, 0.7);
  EXPECT_DOUBLE_EQ(h.steal, 0.02);
  EXPECT_EQ(h.peak_rss_bytes, 50 * kMiB);

  const WorkerHealth none = make_worker_health(ClientTiming{}, 0, 0, 0, 0);
  EXPECT_DOUBLE_EQ(none.reads_per_token, 0.0);  // no output token: no ratio, not a division by 0
  EXPECT_EQ(none.timestamps, "none");
}

TEST(WorkerHealth, ThisProcessHasAResidentSetAndAPeak) {
  EXPECT_GT(process_rss_bytes(), 0);
  EXPECT_GE(process_peak_rss_bytes(), process_rss_bytes() / 2);  // ru_maxrss is in KiB: rounding
}

TEST(WorkerHealth, PeakRssTravelsAsAnOptionalWireKey) {
  IntervalSnapshot s;
  s.end_ns = 10;
  s.peak_rss_bytes = 123 * kMiB;
  nlohmann::json j = s.to_wire();
  EXPECT_EQ(j.at("peak_rss_bytes"), 123 * kMiB);
  auto back = IntervalSnapshot::from_wire(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->peak_rss_bytes, 123 * kMiB);

  j.erase("peak_rss_bytes");  // a worker from before: unknown, not an error
  back = IntervalSnapshot::from_wire(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->peak_rss_bytes, 0);

  j["peak_rss_bytes"] = -1;
  back = IntervalSnapshot::from_wire(j);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().find("peak_rss_bytes"), std::string::npos) << back.error();
}

TEST(WorkerHealth, LiveMergeKeepsEachWorkersTimingAndLargestPeak) {
  coord::LiveMerge m(2);
  IntervalSnapshot a;
  a.end_ns = 1'000'000'000;
  a.client = timing(10, 10, 10, 0, 100);
  a.peak_rss_bytes = 30 * kMiB;
  IntervalSnapshot b = a;
  b.peak_rss_bytes = 20 * kMiB;  // a later, smaller figure never lowers the peak
  ASSERT_TRUE(m.add(0, 1, a, 0));
  ASSERT_TRUE(m.add(0, 2, b, 0));
  IntervalSnapshot c = a;
  c.client = timing(7, 0, 7, 0, 100);
  c.peak_rss_bytes = 0;
  ASSERT_TRUE(m.add(1, 1, c, 0));
  EXPECT_EQ(m.worker_peak_rss(0), 30 * kMiB);
  EXPECT_EQ(m.worker_peak_rss(1), 0);
  EXPECT_EQ(m.worker_client(0).token_reads, 20);
  EXPECT_EQ(m.worker_client(1).token_reads, 7);
  EXPECT_EQ(m.worker_client(1).timestamps(), "clock");
  EXPECT_EQ(m.client().token_reads, 27);
}

TEST(WorkerHealth, SummaryJsonWritesAndReadsEveryWorkersHealth) {
  const RunResult r = two_worker_run();
  const nlohmann::json j = summary_to_json(r);
  const nlohmann::json& w1 = j["run"]["workers"][1];
  EXPECT_EQ(j["run"]["client"]["peak_rss_bytes"], 64 * kMiB);
  EXPECT_EQ(w1["peak_rss_bytes"], 64 * kMiB);
  EXPECT_DOUBLE_EQ(w1["reads_per_token"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(w1["cpu_busy"].get<double>(), 0.75);
  EXPECT_EQ(w1["timestamps"], "clock");
  EXPECT_DOUBLE_EQ(w1["timing_uncertain_share"].get<double>(), 0.05);
  EXPECT_NEAR(w1["loop_lag_ms_p99"].get<double>(), 1.0, 0.01);

  auto back = summary_from_json(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->run.workers, r.run.workers);
  EXPECT_EQ(back->run.client.peak_rss_bytes, 64 * kMiB);
}

TEST(WorkerHealth, ASummaryFromBeforeReadsWithoutHealth) {
  nlohmann::json j = summary_to_json(two_worker_run());
  j["run"]["client"].erase("peak_rss_bytes");
  for (auto& w : j["run"]["workers"])
    for (const char* k : {"peak_rss_bytes", "cpu_busy", "steal", "loop_lag_ms_p99",
                          "reads_per_token", "timestamps", "timing_uncertain_share"})
      w.erase(k);
  auto back = summary_from_json(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->run.client.peak_rss_bytes, 0);
  EXPECT_EQ(back->run.workers[0].health, WorkerHealth{});
}

TEST(WorkerHealth, TheReaderNamesABadField) {
  nlohmann::json j = summary_to_json(two_worker_run());
  j["run"]["workers"][1]["cpu_busy"] = 1.5;
  auto back = summary_from_json(j);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().find("run.workers[1].cpu_busy"), std::string::npos) << back.error();

  j = summary_to_json(two_worker_run());
  j["run"]["workers"][0]["timestamps"] = "sundial";
  back = summary_from_json(j);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().find("run.workers[0].timestamps"), std::string::npos) << back.error();

  j = summary_to_json(two_worker_run());
  j["run"]["workers"][0].erase("reads_per_token");  // one key of the set missing
  back = summary_from_json(j);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().find("reads_per_token"), std::string::npos) << back.error();
}

TEST(WorkerHealth, MergeKeepsEveryWorkerAndTheLargestPeak) {
  RunResult a = two_worker_run();
  RunResult b = two_worker_run();
  b.run.workers.pop_back();
  b.run.workers[0].health.peak_rss_bytes = 90 * kMiB;
  b.run.client.peak_rss_bytes = 90 * kMiB;
  auto m = analysis::merge_results({{"a", a}, {"b", b}}, {});
  ASSERT_TRUE(m) << m.error();
  ASSERT_EQ(m->run.workers.size(), 3u);
  EXPECT_EQ(m->run.workers[1].health, a.run.workers[1].health);
  EXPECT_EQ(m->run.workers[2].health.peak_rss_bytes, 90 * kMiB);
  EXPECT_EQ(m->run.client.peak_rss_bytes, 90 * kMiB);
}

TEST(WorkerHealth, TerminalSummaryHasAClientLineWithMemory) {
  RunResult r = two_worker_run();
  r.run.client.timing = timing(1950, 0, 1, 0, 100);
  r.total.counters.output_tokens = 1300;
  const std::string s = analysis::summary_client_lines(r);
  EXPECT_NE(s.find("client: peak RSS 64.0 MiB (largest worker), 1.50 token reads per output "
                   "token\n"),
            std::string::npos)
      << s;
  r.run.client.peak_rss_bytes = 0;  // unknown: no line rather than "0 MiB"
  EXPECT_EQ(analysis::summary_client_lines(r).find("peak RSS"), std::string::npos);
}

TEST(WorkerHealth, ReportHasAClientHealthBoxWithEveryWorker) {
  analysis::ReportRun run;
  run.label = "run-1";
  run.result = two_worker_run();
  const std::string html = analysis::html_report({run});
  const size_t box = html.find("<h2>Client health</h2>");
  ASSERT_NE(box, std::string::npos);
  const std::string table = html.substr(box, html.find("</table>", box) - box);
  EXPECT_NE(table.find("id=\"client-health\""), std::string::npos);
  EXPECT_NE(table.find("w1 on box"), std::string::npos);
  EXPECT_NE(table.find("w2 on box"), std::string::npos);
  EXPECT_NE(table.find("<td>64.0</td>"), std::string::npos) << table;  // w2's peak, MiB
  EXPECT_NE(table.find("<td>75%</td>"), std::string::npos) << table;   // w2's CPU busy
}

TEST(ProcessMetrics, StandardNamesInTheTextFormat) {
  const std::string text = analysis::prometheus_process_metrics(123 * kMiB, 1.5);
  EXPECT_EQ(text,
            "# HELP process_resident_memory_bytes Resident memory size in bytes\n"
            "# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes 128974848\n"
            "# HELP process_cpu_seconds_total Total user and system CPU time in seconds\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 1.5\n");
  ASSERT_EQ(std::system("command -v promtool >/dev/null 2>&1"), 0)
      << "promtool not found: scripts/setup.sh installs Debian's prometheus package "
         "(LLMLOAD_TEST_DEPS=1)";
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("llmload-process-metrics-" + std::to_string(::getpid()) + ".prom"))
                               .string();
  std::ofstream(file) << analysis::prometheus_exposition({}, analysis::PrometheusGauges{}) + text;
  const int rc = std::system(("promtool check metrics < " + file + " >/dev/null 2>&1").c_str());
  std::filesystem::remove(file);
  EXPECT_EQ(rc, 0);
}

TEST(WaitReady, WhatCountsAsReady) {
  worker::PreflightCheck c;
  c.target = "http://127.0.0.1:9";
  c.probe = "GET /v1/models";
  c.ok = true;
  c.status = 200;
  EXPECT_EQ(worker::not_ready_reason(c), "");
  c.status = 404;  // no model list there, yet the server answers
  EXPECT_EQ(worker::not_ready_reason(c), "");
  c.status = 503;  // llama.cpp while loading its model
  EXPECT_EQ(worker::not_ready_reason(c), "GET /v1/models answered 503");
  c.ok = false;
  c.status = 401;  // an answer: pre-flight reports the credentials, waiting would not help
  c.error = ErrorKind::kHttp4xx;
  EXPECT_EQ(worker::not_ready_reason(c), "");
  c.status = 0;
  c.error = ErrorKind::kConnectRefused;
  c.message = "pre-flight failed for target http://127.0.0.1:9: connection refused";
  EXPECT_EQ(worker::not_ready_reason(c), "connection refused");
}

}  // namespace
}  // namespace llmload
