// Prometheus alerting rules for the SLOs a scenario declares, over the names /metrics serves
// (prometheus.h): the same thresholds a CI gate checks, watched continuously.
#pragma once

#include <string>
#include <vector>

#include "common/slo_expr.h"

namespace llmload::analysis {

struct AlertRulesOutput {
  std::string yaml;                  // a rules file: `groups: [{name, rules: [...]}]`
  std::vector<std::string> skipped;  // assertions with no PromQL form, and why
};

// `window` is the PromQL range, e.g. "5m". Each assertion becomes one alert that fires while
// the assertion would fail.
AlertRulesOutput prometheus_alert_rules(const std::vector<SloAssertion>& asserts,
                                        const std::string& group_name,
                                        const std::string& window = "5m");

// The PromQL expression of an assertion's variable, or "" when there is none.
std::string promql_for(const SloAssertion& a, const std::string& window);

}  // namespace llmload::analysis
