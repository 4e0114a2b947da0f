#include "analysis/observe/alert_rules.h"

#include <cstdio>

#include "analysis/observe/prometheus.h"
#include "common/number_format.h"

namespace llmload::analysis {
namespace {

// The opposite comparison: the alert fires while the assertion fails.
const char* negated(SloOp op) {
  switch (op) {
    case SloOp::kLt:
      return ">=";
    case SloOp::kLe:
      return ">";
    case SloOp::kGt:
      return "<=";
    case SloOp::kGe:
      return "<";
    case SloOp::kEq:
      return "!=";
    case SloOp::kNe:
      return "==";
  }
  return "!=";
}

std::string yaml_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string promql_for(const SloAssertion& a, const std::string& window) {
  std::string sel;
  if (a.group)
    sel =
        prometheus_label_name(a.group->key) + "=\"" + prometheus_label_value(a.group->value) + "\"";
  auto matcher = [&](const std::string& extra) {
    std::string m = sel;
    if (!extra.empty()) m += (m.empty() ? "" : ",") + extra;
    return m.empty() ? std::string() : "{" + m + "}";
  };
  auto rate = [&](const std::string& metric, const std::string& extra = "") {
    return "sum(rate(" + metric + matcher(extra) + "[" + window + "]))";
  };
  if (a.kind == SloVarKind::kMetricStat) {
    bool exposed =
        a.metric == "ttft" || a.metric == "itl" || a.metric == "tpot" || a.metric == "e2e";
    if (!exposed || a.stat.size() < 2 || a.stat[0] != 'p') return "";
    double q = a.stat == "p999" ? 0.999 : std::stod(a.stat.substr(1)) / 100.0;
    // Milliseconds in the assertion, seconds in the exposition: the caller scales the bound.
    return "histogram_quantile(" + format_number("%.9g", q) + ", sum by (le) (rate(llmload_" +
           a.metric + "_seconds_bucket" + matcher("") + "[" + window + "])))";
  }
  const std::string& t = a.metric;
  if (t == "error_rate")
    return rate("llmload_requests_total", "outcome=\"failed\"") + " / " +
           rate("llmload_requests_total");
  if (t == "rate_limited")
    return "sum(increase(llmload_errors_total" + matcher("kind=\"http_429\"") + "[" + window +
           "]))";
  if (t == "requests_per_s") return rate("llmload_requests_total");
  if (t == "output_tokens_per_s") return rate("llmload_output_tokens_total");
  if (t == "goodput_per_s") return rate("llmload_goodput_requests_total");
  if (t == "goodput_ratio")
    return rate("llmload_goodput_requests_total") + " / " +
           rate("llmload_requests_total", "outcome=\"ok\"");
  return "";
}

AlertRulesOutput prometheus_alert_rules(const std::vector<SloAssertion>& asserts,
                                        const std::string& group_name, const std::string& window) {
  AlertRulesOutput out;
  out.yaml = "groups:\n  - name: " + yaml_quote(group_name) + "\n    rules:\n";
  int n = 0;
  for (const SloAssertion& a : asserts) {
    std::string expr = promql_for(a, window);
    if (expr.empty()) {
      out.skipped.push_back(a.text + ": no Prometheus series for " + a.variable());
      continue;
    }
    double bound = a.value;
    if (a.kind == SloVarKind::kMetricStat) bound /= 1000.0;  // ms → s
    ++n;
    out.yaml += "      - alert: LlmloadSlo" + std::to_string(n) + "\n";
    out.yaml += "        expr: " +
                yaml_quote(expr + " " + negated(a.op) + " " + format_number("%.9g", bound)) + "\n";
    out.yaml += "        for: 1m\n";
    out.yaml += "        labels:\n          severity: warning\n";
    out.yaml +=
        "        annotations:\n          summary: " + yaml_quote("SLO broken: " + a.text) + "\n";
  }
  if (n == 0) out.yaml = "groups:\n  - name: " + yaml_quote(group_name) + "\n    rules: []\n";
  return out;
}

}  // namespace llmload::analysis
