// The run gates (analysis/gates/run_gates.h) over hand-made results: assertions and their
// details, the abort_on_fail verdict, /metrics, and the CI files and report at the end.
#include "analysis/gates/run_gates.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/gates/junit.h"
#include "common/exit_codes.h"
#include "scratch_dir_test_util.h"

namespace llmload::analysis {
namespace {

namespace fs = std::filesystem;

SloAssertion parse(const char* text) {
  auto a = parse_slo_expr(text);
  EXPECT_TRUE(a.ok()) << text << ": " << (a.ok() ? "" : a.error());
  return a.value();
}

// `ok` requests that succeeded and `failed` that failed with a 429, ttft 100 ms each.
GroupStats group(int ok, int failed) {
  GroupStats g(Labels{{"model", "m"}});
  for (int i = 0; i < ok; ++i) {
    g.record(Metric::kTtft, 100'000);
    g.counters.requests++;
    g.counters.ok++;
  }
  for (int i = 0; i < failed; ++i) g.record_error(ErrorKind::kHttp429, "429 Too Many Requests");
  return g;
}

RunResult run_of(int ok, int failed) {
  RunResult r;
  r.run.id = "gates-run";
  r.run.duration_s = 10;
  r.groups.push_back(GroupResult{group(ok, failed), std::nullopt});
  recompute_total(r);
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every group of the scenario is on /metrics from the start, at zero, and stays there until it is
// seen: Prometheus's rate() then sees each group's whole rise (a series born mid-run loses what
// came before its first scrape).
TEST(RunGates, MetricsShowEveryGroupAtZeroBeforeItIsSeen) {
  RunGatesOptions o;
  o.prometheus = "127.0.0.1:0";
  o.groups = {Labels{{"model", "a"}, {"target", "t"}}, Labels{{"model", "b"}, {"target", "t"}}};
  RunGates gates(o);
  ASSERT_TRUE(gates.start(nullptr));
  std::string text = gates.metrics_text();
  for (const char* m : {"a", "b"}) {
    const std::string series = std::string("llmload_ttft_seconds_count{model=\"") + m +
                               "\",target=\"t\"} 0\n";
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
    EXPECT_NE(text.find(std::string("llmload_ttft_seconds_bucket{model=\"") + m +
                        "\",target=\"t\",le=\"+Inf\"} 0\n"),
              std::string::npos)
        << text;
  }
  // Group a seen: its numbers; b still at zero.
  RunResult live = run_of(5, 0);
  live.groups[0].stats.labels = o.groups[0];
  std::map<std::string, GroupStats> seen = {{group_key(o.groups[0]), live.groups[0].stats}};
  EXPECT_EQ(gates.on_interval(LiveNumbers{seen, live.total, 1.0, 1, 1, 0}), "");
  text = gates.metrics_text();
  EXPECT_NE(text.find("llmload_ttft_seconds_count{model=\"a\",target=\"t\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("llmload_ttft_seconds_count{model=\"b\",target=\"t\"} 0\n"),
            std::string::npos)
      << text;
}

class RunGatesFiles : public testing_util::ScratchDirTest {
 protected:
  RunGatesFiles() : ScratchDirTest("gates") {}
};

TEST(RunGates, EvaluateSetsEveryAssertionAndItsDetail) {
  RunGatesOptions o;
  o.asserts = {parse("error_rate < 1%"), parse("ttft.p99 < 500ms")};
  RunGates gates(o);
  ASSERT_TRUE(gates.has_assertions());
  RunResult r = run_of(90, 10);
  r.assertions.push_back({"stale", 1, true});  // replaced, not appended to
  gates.evaluate(r);
  ASSERT_EQ(r.assertions.size(), 2u);
  EXPECT_EQ(r.assertions[0].expr, "error_rate < 1%");
  EXPECT_FALSE(r.assertions[0].passed);
  EXPECT_DOUBLE_EQ(*r.assertions[0].value, 0.1);
  EXPECT_EQ(r.assertions[1].expr, "ttft.p99 < 500ms");
  EXPECT_TRUE(r.assertions[1].passed);
  ASSERT_EQ(gates.details().size(), 2u);
  EXPECT_NE(gates.details()[0].find("10%"), std::string::npos) << gates.details()[0];
  EXPECT_NE(gates.details()[1].find("ms"), std::string::npos) << gates.details()[1];
}

TEST(RunGates, AnAbortOnFailAssertionCertainToFailStopsTheRun) {
  RunGatesOptions o;
  o.asserts = {parse("ttft.p99 < 500ms"), parse("failed < 3 abort_on_fail")};
  RunGates gates(o);
  ASSERT_TRUE(gates.start(nullptr));
  EXPECT_TRUE(gates.watches_intervals());
  const RunResult fine = run_of(20, 2), broken = run_of(20, 5);
  std::map<std::string, GroupStats> groups = {{"m", fine.groups[0].stats}};
  EXPECT_EQ(gates.on_interval(LiveNumbers{groups, fine.total, 2.0, 4, 1, 0.5}), "");
  groups = {{"m", broken.groups[0].stats}};
  std::string why = gates.on_interval(LiveNumbers{groups, broken.total, 3.0, 4, 1, 0.5});
  EXPECT_NE(why.find("abort_on_fail assertion 'failed < 3 abort_on_fail' failed"),
            std::string::npos)
      << why;
}

TEST(RunGates, WithoutAbortOrMetricsIntervalsAreNotWatched) {
  RunGatesOptions o;
  o.asserts = {parse("failed < 3")};
  RunGates gates(o);
  ASSERT_TRUE(gates.start(nullptr));
  EXPECT_FALSE(gates.watches_intervals());
  const RunResult broken = run_of(20, 5);
  std::map<std::string, GroupStats> groups = {{"m", broken.groups[0].stats}};
  EXPECT_EQ(gates.on_interval(LiveNumbers{groups, broken.total, 3.0, 0, 1, 0}), "");
  EXPECT_EQ(gates.metrics_port(), 0);
  EXPECT_EQ(gates.metrics_text(), "");
}

TEST(RunGates, LingerIsCheckedBeforeAnythingStarts) {
  auto start_with = [](const char* prometheus, const char* linger) {
    RunGatesOptions o;
    o.prometheus = prometheus;
    o.prometheus_linger = linger;
    RunGates gates(o);
    auto s = gates.start(nullptr);
    return s ? std::string() : s.error();
  };
  EXPECT_NE(start_with("", "5s").find("needs --prometheus"), std::string::npos);
  EXPECT_NE(start_with("127.0.0.1:0", "2h").find("from 0s to 1h"), std::string::npos);
  EXPECT_NE(start_with("127.0.0.1:0", "soon").find("--prometheus-linger: "), std::string::npos);
  EXPECT_EQ(start_with("127.0.0.1:0", "0s"), "");
  EXPECT_NE(start_with("no-port", ""), "");
}

TEST(RunGates, MetricsServeLiveNumbersThenTheFinalOnes) {
  RunGatesOptions o;
  o.prometheus = "127.0.0.1:0";
  RunGates gates(o);
  ASSERT_TRUE(gates.start(nullptr));
  EXPECT_GT(gates.metrics_port(), 0);
  EXPECT_TRUE(gates.watches_intervals());
  EXPECT_NE(gates.metrics_text().find("llmload_in_flight_requests 0"), std::string::npos);
  const RunResult live = run_of(7, 0);
  std::map<std::string, GroupStats> groups = {{"m", live.groups[0].stats}};
  EXPECT_EQ(gates.on_interval(LiveNumbers{groups, live.total, 1.0, 12, 3, 250}), "");
  std::string text = gates.metrics_text();
  EXPECT_NE(text.find("llmload_in_flight_requests 12"), std::string::npos) << text;
  EXPECT_NE(text.find("llmload_workers_alive 3"), std::string::npos) << text;
  RunResult end = run_of(9, 1);
  end.run.workers = {WorkerInfo{"w1", "h", 1, WorkerStatus::kOk, {}, {}},
                     WorkerInfo{"w2", "h", 1, WorkerStatus::kLost, {}, {}}};
  // Results not written: the live numbers stay.
  EXPECT_EQ(gates.finish(end, 0, "", false, "unused"), 0);
  EXPECT_EQ(gates.metrics_text(), text);
  o.no_report = true;
  RunGates final_gates(o);
  ASSERT_TRUE(final_gates.start(nullptr));
  EXPECT_EQ(final_gates.finish(end, 0, "", true, "unused"), 0);
  text = final_gates.metrics_text();
  EXPECT_NE(text.find("llmload_in_flight_requests 0"), std::string::npos) << text;
  EXPECT_NE(text.find("llmload_workers_alive 1"), std::string::npos) << text;
}

TEST_F(RunGatesFiles, FinishWritesJunitSummaryAndReport) {
  RunGatesOptions o;
  o.asserts = {parse("error_rate < 1%"), parse("requests > 5")};
  o.junit = (dir_ / "junit.xml").string();
  o.summary_md = (dir_ / "summary.md").string();
  RunGates gates(o);
  RunResult r = run_of(90, 10);
  gates.evaluate(r);
  EXPECT_EQ(gates.finish(r, kExitAssertion, "", true, dir_.string()), kExitAssertion);
  std::string junit = slurp(dir_ / "junit.xml");
  EXPECT_NE(junit.find("tests=\"2\" failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("error_rate &lt; 1%"), std::string::npos) << junit;
  EXPECT_NE(junit.find(xml_escape(gates.details()[0])), std::string::npos) << junit;
  std::string md = slurp(dir_ / "summary.md");
  EXPECT_NE(md.find("requests > 5"), std::string::npos) << md;
  EXPECT_NE(slurp(dir_ / "report.html").find("gates-run"), std::string::npos);
}

TEST_F(RunGatesFiles, ARunWithoutAssertionsReportsItsOutcomeAsOneCase) {
  RunGatesOptions o;
  o.junit = (dir_ / "junit.xml").string();
  o.no_report = true;
  RunGates gates(o);
  RunResult r = run_of(0, 0);
  r.run.status = RunStatus::kFailed;
  EXPECT_EQ(gates.finish(r, kExitUsage, "target unreachable", true, dir_.string()), kExitUsage);
  std::string junit = slurp(dir_ / "junit.xml");
  EXPECT_NE(junit.find("run failed"), std::string::npos) << junit;
  EXPECT_NE(junit.find("target unreachable"), std::string::npos) << junit;
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
}

TEST_F(RunGatesFiles, AFileThatCannotBeWrittenIsAnInternalError) {
  RunGatesOptions o;
  o.summary_md = (dir_ / "missing-dir" / "summary.md").string();
  RunGates gates(o);
  RunResult r = run_of(10, 0);
  // No report: results not written.
  EXPECT_EQ(gates.finish(r, kExitAssertion, "", false, dir_.string()), kExitInternal);
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
}

}  // namespace
}  // namespace llmload::analysis
