// The contract every formatter of a RunResult keeps (STYLE.md: one canonical result model, many
// formatters, each a pure function of the model): summary.json, summary.csv, summary.md, the
// terminal table, report.html and the Prometheus exposition. One row per formatter: adding a
// formatter means adding its row here.
//   - pure: the same result (or a copy) gives the same bytes, every time;
//   - complete: every group of the result is named in the output;
//   - total: an empty result and a result with a zero-length window format without a crash and
//     without a non-number ("nan", "inf") in the output.
#include <gtest/gtest.h>

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "analysis/gates/summary_md.h"
#include "analysis/observe/prometheus.h"
#include "analysis/report/html_report.h"
#include "common/rating.h"
#include "analysis/report/summary_table.h"
#include "common/results_csv.h"
#include "common/results_json.h"
#include "tests/unit/results_test_util.h"

namespace llmload::analysis {
namespace {

struct Formatter {
  const char* name;
  std::function<std::string(const RunResult&)> format;
  bool empty_when_no_groups = false;  // the terminal table prints nothing for no groups
};

std::vector<GroupStats> group_stats(const RunResult& r) {
  std::vector<GroupStats> out;
  for (const auto& g : r.groups) out.push_back(g.stats);
  return out;
}

const std::vector<Formatter>& formatters() {
  static const std::vector<Formatter> all = {
      {"summary_json", [](const RunResult& r) { return summary_to_string(r); }},
      {"summary_csv", [](const RunResult& r) { return summary_csv(r); }},
      {"summary_md", [](const RunResult& r) { return summary_markdown(r); }},
      {"terminal_table",
       [](const RunResult& r) { return summary_group_table(r, default_rating_tiers(), false); },
       true},
      {"report_html",
       [](const RunResult& r) {
         return html_report({ReportRun{"run", r, {}}});
       }},
      {"prometheus",
       [](const RunResult& r) {
         return prometheus_exposition(group_stats(r), PrometheusGauges{});
       }},
  };
  return all;
}

class FormatterContract : public ::testing::TestWithParam<Formatter> {};

// "nan", "inf" and their spellings as a number; Prometheus's own bucket label le="+Inf" is the
// exposition format's, not a number we computed.
bool has_non_number(std::string text) {
  static const std::regex bad(R"((^|[^A-Za-z_])-?(nan|inf|NaN|Inf|INF|NAN)([^A-Za-z_]|$))");
  static const std::regex inf_bucket(R"(le="\+Inf")");
  text = std::regex_replace(text, inf_bucket, "le=\"top\"");
  return std::regex_search(text, bad);
}

TEST_P(FormatterContract, IsAPureFunctionOfTheResult) {
  const RunResult r = testing_util::sample_result();
  const RunResult copy = r;
  const std::string first = GetParam().format(r);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(GetParam().format(r), first);
  EXPECT_EQ(GetParam().format(copy), first);
}

TEST_P(FormatterContract, NamesEveryGroup) {
  const RunResult r = testing_util::sample_result();
  const std::string text = GetParam().format(r);
  for (const auto& g : r.groups) {
    const std::string& model = g.stats.labels.at("model");
    EXPECT_NE(text.find(model), std::string::npos) << GetParam().name << " leaves out " << model;
  }
}

TEST_P(FormatterContract, AnEmptyResultAndAZeroWindowFormatWithNumbersOnly) {
  RunResult empty;
  empty.run.id = "empty";
  const std::string e = GetParam().format(empty);
  if (!GetParam().empty_when_no_groups) {
    EXPECT_FALSE(e.empty()) << GetParam().name;
  }
  EXPECT_FALSE(has_non_number(e)) << GetParam().name << ":\n" << e.substr(0, 2000);

  RunResult zero = testing_util::sample_result();
  zero.run.duration_s = 0;  // every rate divides by it
  const std::string z = GetParam().format(zero);
  EXPECT_FALSE(z.empty());
  EXPECT_FALSE(has_non_number(z)) << GetParam().name << ":\n" << z.substr(0, 2000);
}

// requests = ok + failed + client_cancelled: every formatter that shows the counts shows the
// third one too.
TEST_P(FormatterContract, CarriesClientCancelled) {
  const RunResult r = testing_util::sample_result_with_cancels();
  ASSERT_GT(r.total.counters.client_cancelled, 0);
  ASSERT_EQ(r.total.counters.requests,
            r.total.counters.ok + r.total.counters.failed + r.total.counters.client_cancelled);
  const std::string text = GetParam().format(r);
  EXPECT_NE(text.find("client_cancelled"), std::string::npos) << GetParam().name;
  EXPECT_NE(text.find(std::to_string(r.total.counters.client_cancelled)), std::string::npos)
      << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(EveryFormatter, FormatterContract, ::testing::ValuesIn(formatters()),
                         [](const ::testing::TestParamInfo<Formatter>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace llmload::analysis
