// Comparing a run against a baseline, metric by metric and group by group, with the noise the
// histograms allow: a percentile measured from n samples is only known to within the values at
// the ranks n·q ± 1.96·sqrt(n·q·(1−q)) (the binomial confidence interval of an order
// statistic, 95%); a mean to within 1.96·stddev/sqrt(n). A change is "significant" when the two
// runs' intervals do not overlap.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/results.h"
#include "common/slo_expr.h"

namespace llmload::analysis {

struct CompareRow {
  std::string group;   // "total" or the group key
  std::string metric;  // "ttft", or a total such as "output_tokens_per_s"
  std::string stat;    // "p99", "mean" (empty for totals)
  std::string unit;    // "ms", "tokens/s", ...
  std::optional<double> baseline, current;
  std::optional<double> change_pct;  // (current − baseline) / baseline × 100
  bool significant = false;          // the 95% intervals do not overlap
};

std::vector<CompareRow> compare_results(const RunResult& baseline, const RunResult& current);

// A regression rule: `[key=value:] variable OP [+|-]N[%|unit]`, e.g. `ttft.p99>+10%`
// (fail when the p99 TTFT grew by more than 10%), `output_tokens_per_s<-5%`, `e2e.p50>+200ms`.
struct FailOnRule {
  std::string text;
  SloAssertion variable;  // group, kind, metric, stat (op and value unused)
  SloOp op = SloOp::kGt;
  double threshold = 0;  // percent when relative, else in the variable's unit (ms for times)
  bool relative = false;
};
Expected<FailOnRule> parse_fail_on(const std::string& text);

struct FailOnOutcome {
  bool failed = false;
  std::string message;  // "ttft.p99: 812.0 ms → 990.1 ms (+21.9%), limit > +10%"
};
FailOnOutcome evaluate_fail_on(const FailOnRule& rule, const RunResult& baseline,
                               const RunResult& current);

// The comparison as an aligned text table.
std::string format_compare_table(const std::vector<CompareRow>& rows, bool only_significant);

}  // namespace llmload::analysis
