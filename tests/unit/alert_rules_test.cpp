#include "analysis/observe/alert_rules.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace llmload::analysis {
namespace {

std::vector<SloAssertion> parse_all(std::initializer_list<const char*> texts) {
  std::vector<SloAssertion> out;
  for (const char* t : texts) {
    auto a = parse_slo_expr(t);
    EXPECT_TRUE(a) << t << ": " << (a ? "" : a.error());
    if (a) out.push_back(*a);
  }
  return out;
}

TEST(AlertRules, PromqlPerAssertion) {
  auto a = parse_all({"ttft.p99 < 2s", "model=llama: tpot.p95 <= 80ms", "error_rate < 1%",
                      "output_tokens_per_s > 500", "ttft.mean < 1s"});
  EXPECT_EQ(promql_for(a[0], "5m"),
            "histogram_quantile(0.99, sum by (le) (rate(llmload_ttft_seconds_bucket[5m])))");
  EXPECT_EQ(promql_for(a[1], "1m"),
            "histogram_quantile(0.95, sum by (le) "
            "(rate(llmload_tpot_seconds_bucket{model=\"llama\"}[1m])))");
  EXPECT_NE(promql_for(a[2], "5m").find("outcome=\"failed\""), std::string::npos);
  EXPECT_EQ(promql_for(a[4], "5m"), "");
  AlertRulesOutput out = prometheus_alert_rules(a, "ci-smoke");
  EXPECT_NE(out.yaml.find("> 0.08'"), std::string::npos) << out.yaml;  // 80 ms in seconds
  EXPECT_NE(out.yaml.find(">= 2'"), std::string::npos) << out.yaml;    // fires while >= 2 s
  EXPECT_NE(out.yaml.find("<= 500'"), std::string::npos) << out.yaml;
  ASSERT_EQ(out.skipped.size(), 1u);
  EXPECT_NE(out.skipped[0].find("ttft.mean"), std::string::npos);
}

// Debian's promtool (installed by scripts/test.sh) accepts the rules file.
TEST(AlertRules, PromtoolCheckRulesPasses) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null"), 0)
      << "promtool not found: scripts/test.sh installs Debian's prometheus package";
  auto a = parse_all({"ttft.p99 < 2s", "model=llama: tpot.p95 <= 80ms", "error_rate < 1%",
                      "rate_limited < 5", "goodput_ratio >= 0.95", "requests_per_s > 1",
                      "goodput_per_s > 1"});
  std::string path = ::testing::TempDir() + "/llmload_rules.yml";
  std::ofstream(path) << prometheus_alert_rules(a, "it's llmload").yaml;
  std::string cmd = "promtool check rules " + path + " > " + path + ".out 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream out(path + ".out");
  std::string report((std::istreambuf_iterator<char>(out)), {});
  EXPECT_EQ(rc, 0) << report;
  EXPECT_NE(report.find("SUCCESS: 7 rules found"), std::string::npos) << report;
}

}  // namespace
}  // namespace llmload::analysis
