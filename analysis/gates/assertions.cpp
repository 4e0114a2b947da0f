#include "analysis/gates/assertions.h"

#include <cmath>
#include <cstdio>

#include "common/number_format.h"

namespace llmload::analysis {
namespace {

// The stats of one metric summary by name, or nullopt for an unknown stat.
std::optional<double> stat_of(const MetricSummary& s, const std::string& stat) {
  if (stat == "count") return double(s.count);
  if (stat == "min") return s.min;
  if (stat == "mean") return s.mean;
  if (stat == "stddev") return s.stddev;
  if (stat == "p50") return s.p50;
  if (stat == "p90") return s.p90;
  if (stat == "p95") return s.p95;
  if (stat == "p99") return s.p99;
  if (stat == "p999") return s.p999;
  if (stat == "max") return s.max;
  return std::nullopt;
}

bool is_growing_count(const std::string& total) {
  return total == "requests" || total == "ok" || total == "failed" || total == "rate_limited" ||
         total == "retries" || total == "input_tokens" || total == "output_tokens" ||
         total == "cost_usd" || total == "dropped" || total == "client_cancelled" ||
         total == "inputs";
}

std::string format_value(double v, const SloAssertion& a) {
  if (slo_is_time(a)) return format_number("%.3f ms", v);
  if (slo_is_share(a)) return format_number("%.4g%%", v * 100);
  return format_number("%.6g", v);
}

}  // namespace

std::optional<double> assertion_variable(const SloAssertion& a, const RunResult& result,
                                         std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<double> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (a.kind == SloVarKind::kClient) {
    const ClientHealth& h = result.run.client;
    if (a.metric == "client.saturated") return h.saturated ? 1.0 : 0.0;
    if (a.metric == "client.loop_lag") return h.loop_lag_ms_p99;
    if (a.metric == "client.cpu_busy") return h.cpu_busy;
    if (a.metric == "client.timing_uncertain_share") {
      if (h.timing.timing_values == 0) return fail("no ttft or itl value was recorded");
      return h.timing.uncertain_share();
    }
    return fail("unknown variable '" + a.metric + "'");
  }
  // The stats to look in: the run's total, or the merge of the selected groups.
  const GroupStats* stats = &result.total;
  GroupStats selected;
  std::optional<double> cost = result.cost_usd;
  if (a.group) {
    int matched = 0;
    double group_cost = 0;
    bool any_cost = false;
    for (const GroupResult& g : result.groups) {
      auto it = g.stats.labels.find(a.group->key);
      if (it == g.stats.labels.end() || it->second != a.group->value) continue;
      selected.merge(g.stats);
      if (g.cost_usd) {
        group_cost += *g.cost_usd;
        any_cost = true;
      }
      ++matched;
    }
    if (matched == 0) return fail("no group has " + a.group->key + "=" + a.group->value);
    stats = &selected;
    cost = any_cost ? std::optional<double>(group_cost) : std::nullopt;
  }
  const Counters& c = stats->counters;
  double secs = result.run.duration_s;

  if (a.kind == SloVarKind::kMetricStat) {
    const HdrHistogram* h = nullptr;
    std::optional<MetricUnits> units = units_of_name(a.metric);
    if (!units) return fail("unknown metric '" + a.metric + "'");
    if (auto m = parse_metric(a.metric)) {
      h = stats->histogram(*m);
    } else {
      auto it = stats->server_histograms().find(a.metric);
      if (it != stats->server_histograms().end()) h = &it->second;
    }
    if (!h || h->total_count() == 0) {
      if (a.stat == "count") return 0.0;
      return fail("no " + a.metric + " value was recorded");
    }
    MetricSummary s = summarize(*h, a.metric, *units);
    auto v = stat_of(s, a.stat);
    if (!v) return fail("unknown statistic '" + a.stat + "'");
    return v;
  }

  const std::string& t = a.metric;
  if (t == "requests") return double(c.requests);
  if (t == "ok") return double(c.ok);
  if (t == "failed") return double(c.failed);
  if (t == "client_cancelled") return double(c.client_cancelled);
  if (t == "inputs") return double(c.inputs);
  if (t == "retries") return double(c.retries);
  if (t == "dropped") return double(c.dropped);
  if (t == "dropped_ratio") {
    // Of the arrivals: the requests started (every one ends ok or failed) and those dropped.
    if (c.requests + c.dropped == 0) return fail("no request arrived");
    return double(c.dropped) / double(c.requests + c.dropped);
  }
  if (t == "input_tokens") return double(c.input_tokens);
  if (t == "output_tokens") return double(c.output_tokens);
  if (t == "rate_limited") return double(c.errors[size_t(ErrorKind::kHttp429)]);
  if (t == "error_rate") {
    if (c.requests == 0) return fail("no request finished");
    return double(c.failed) / double(c.requests);
  }
  if (t == "goodput_ratio") {
    if (c.ok == 0) return fail("no request succeeded");
    return double(c.goodput) / double(c.ok);
  }
  if (t == "requests_per_s" || t == "output_tokens_per_s" || t == "goodput_per_s" ||
      t == "inputs_per_s" || t == "input_tokens_per_s") {
    if (secs <= 0) return fail("the measured window has no length");
    double n = t == "requests_per_s"        ? double(c.requests)
               : t == "output_tokens_per_s" ? double(c.output_tokens)
               : t == "inputs_per_s"        ? double(c.inputs)
               : t == "input_tokens_per_s"  ? double(c.input_tokens)
                                            : double(c.goodput);
    return n / secs;
  }
  if (t == "cost_usd") {
    if (!cost) return fail("no price is known for the models in the run");
    return *cost;
  }
  return fail("unknown variable '" + t + "'");
}

AssertionOutcome evaluate_assertion(const SloAssertion& a, const RunResult& result) {
  AssertionOutcome out;
  out.result.expr = a.text;
  std::string why;
  out.result.value = assertion_variable(a, result, &why);
  if (!out.result.value) {
    out.result.passed = false;
    out.detail = "not evaluable: " + why;
    return out;
  }
  out.result.passed = a.holds(*out.result.value);
  out.detail = "measured " + format_value(*out.result.value, a) + ", required " +
               std::string(slo_op_text(a.op)) + " " + format_value(a.value, a);
  return out;
}

std::vector<AssertionOutcome> evaluate_assertions(const std::vector<SloAssertion>& asserts,
                                                  const RunResult& result) {
  std::vector<AssertionOutcome> out;
  out.reserve(asserts.size());
  for (const SloAssertion& a : asserts) out.push_back(evaluate_assertion(a, result));
  return out;
}

bool certain_to_fail(const SloAssertion& a, const RunResult& partial, int64_t min_requests) {
  if (a.kind == SloVarKind::kClient) return false;  // run.client is known at the end only
  auto v = assertion_variable(a, partial);
  if (!v || a.holds(*v)) return false;
  if (a.kind == SloVarKind::kTotal && is_growing_count(a.metric))
    return a.op == SloOp::kLt || a.op == SloOp::kLe || a.op == SloOp::kEq;
  return partial.total.counters.requests >= min_requests;
}

}  // namespace llmload::analysis
