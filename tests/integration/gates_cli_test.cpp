// The CI gate end to end: assertions decide the exit code and the JUnit file, an abort_on_fail
// assertion stops a failing run early, and merge / compare work on real results directories.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;

using llmload_test::fresh_dir;
using llmload_test::run_llmload;
using llmload_test::slurp;

const std::string kQuick = "run " + std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml";

TEST(GatesCli, FailedAssertionExits3WithJunitAndMarkdown) {
  fs::path d = fresh_dir("llmload_gates_assert");
  int code = run_llmload(kQuick + " --requests 40 --quiet --no-report --out " + (d / "r").string() +
                             " --assert 'ttft.p99 < 1ms' --assert 'error_rate < 1%' --junit " +
                             (d / "j.xml").string() + " --summary-md " + (d / "s.md").string(),
                         d / "log");
  std::string j = slurp(d / "j.xml");
  EXPECT_EQ(code, 3) << slurp(d / "log");
  EXPECT_NE(j.find("tests=\"2\" failures=\"1\""), std::string::npos) << j;
  EXPECT_NE(j.find("name=\"ttft.p99 &lt; 1ms\""), std::string::npos) << j;
  EXPECT_NE(slurp(d / "s.md").find("❌ FAIL"), std::string::npos);
  std::string summary = slurp(d / "r" / "summary.json");
  EXPECT_NE(summary.find("\"passed\": false"), std::string::npos);
  EXPECT_NE(summary.find("\"status\": \"completed\""), std::string::npos);
}

TEST(GatesCli, AbortOnFailStopsTheRunWithExit4) {
  fs::path d = fresh_dir("llmload_gates_abort");
  // The mock's TTFT is ~50 ms: 'ttft.p99 < 1ms' is settled as failing once 100 requests
  // finished, long before the 1000 requests are done.
  int code = run_llmload(kQuick + " --requests 1000 --quiet --no-report --out " +
                             (d / "r").string() + " --assert 'ttft.p99 < 1ms abort_on_fail'",
                         d / "log");
  EXPECT_EQ(code, 4) << slurp(d / "log");
  std::string summary = slurp(d / "r" / "summary.json");
  EXPECT_NE(summary.find("\"status\": \"aborted\""), std::string::npos) << summary.substr(0, 400);
  EXPECT_NE(slurp(d / "log").find("abort_on_fail"), std::string::npos);
}

TEST(GatesCli, MergeAndCompareRealRuns) {
  fs::path d = fresh_dir("llmload_gates_merge");
  ASSERT_EQ(run_llmload(kQuick + " --requests 40 --quiet --no-report --out " + (d / "a").string(),
                        d / "la"),
            0)
      << slurp(d / "la");
  ASSERT_EQ(run_llmload(kQuick + " --requests 40 --quiet --no-report --out " + (d / "b").string(),
                        d / "lb"),
            0)
      << slurp(d / "lb");
  ASSERT_EQ(run_llmload("merge " + (d / "a").string() + " " + (d / "b").string() + " --out " +
                            (d / "m").string(),
                        d / "lm"),
            0)
      << slurp(d / "lm");
  std::string merged = slurp(d / "m" / "summary.json");
  EXPECT_NE(merged.find("\"requests\": 80"), std::string::npos) << merged.substr(0, 2000);
  EXPECT_NE(merged.find("merged_from"), std::string::npos);
  EXPECT_TRUE(fs::exists(d / "m" / "histograms.hlog"));
  // Same load twice: no regression beyond 50%; an impossible rule trips exit 3 and JUnit.
  EXPECT_EQ(run_llmload("compare " + (d / "a").string() + " " + (d / "b").string() +
                            " --fail-on 'ttft.p50>+50%'",
                        d / "lc"),
            0)
      << slurp(d / "lc");
  EXPECT_NE(slurp(d / "lc").find("ttft"), std::string::npos);
  EXPECT_EQ(run_llmload("compare " + (d / "a").string() + " " + (d / "b").string() +
                            " --fail-on 'requests>=+0%' --junit " + (d / "c.xml").string(),
                        d / "lc2"),
            3)
      << slurp(d / "lc2");
  EXPECT_NE(slurp(d / "c.xml").find("failures=\"1\""), std::string::npos);
  EXPECT_EQ(run_llmload("compare " + (d / "a").string() + " /nonexistent", d / "lc3"), 2);
}

TEST(GatesCli, ValidateWritesAlertRules) {
  fs::path d = fresh_dir("llmload_gates_rules");
  EXPECT_EQ(run_llmload("validate " + std::string(LLMLOAD_SOURCE_DIR) +
                            "/scenarios/ci-smoke.yaml --alert-rules " + (d / "rules.yml").string(),
                        d / "log"),
            0)
      << slurp(d / "log");
  EXPECT_NE(slurp(d / "rules.yml").find("alert: LlmloadSlo1"), std::string::npos)
      << slurp(d / "rules.yml");
}

}  // namespace
