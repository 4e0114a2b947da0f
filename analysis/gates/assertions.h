// Evaluating SLO assertions (common/slo_expr.h) over a merged result: the CI gate.
//
// A variable is looked up in the run's totals and merged metrics, or, with a group selector
// (`model=llama: ttft.p99 < 1s`), in the merge of every group whose label matches. A variable
// that cannot be evaluated (no such group, no sample of that metric, a ratio over zero
// requests) fails its assertion, and the outcome says why.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/results.h"
#include "common/slo_expr.h"

namespace llmload::analysis {

struct AssertionOutcome {
  AssertionResult result;  // expr, value, passed: what summary.json stores
  std::string detail;      // "measured 812.3 ms, limit < 2000 ms" or why it was not evaluable
};

// The value of the assertion's variable in `result` (ms for time statistics, a fraction for
// ratios), or nullopt with `why` set.
std::optional<double> assertion_variable(const SloAssertion& a, const RunResult& result,
                                         std::string* why = nullptr);

AssertionOutcome evaluate_assertion(const SloAssertion& a, const RunResult& result);
std::vector<AssertionOutcome> evaluate_assertions(const std::vector<SloAssertion>& asserts,
                                                  const RunResult& result);

// For abort_on_fail during a run: true when the data so far make the assertion certain to
// fail. Counts that only grow (requests, failed, rate_limited, retries, tokens, cost, dropped)
// are certain as soon as they break a `<`, `<=` or `==` bound. client.* never are (run.client
// is filled at the end). Any other variable is taken as settled once at least `min_requests`
// requests have finished and it fails.
bool certain_to_fail(const SloAssertion& a, const RunResult& partial, int64_t min_requests = 100);

}  // namespace llmload::analysis
