#include "analysis/gates/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "analysis/gates/assertions.h"
#include "common/duration.h"
#include "common/number_format.h"

namespace llmload::analysis {
namespace {

constexpr double kZ = 1.96;

struct Interval {
  double lo, hi;
};

double stat_value(const HdrHistogram& h, const std::string& stat, double scale) {
  if (stat == "mean") return h.mean() / scale;
  double q = std::stod(stat.substr(1));
  if (stat == "p999") q = 99.9;
  return double(h.value_at_percentile(q)) / scale;
}

// Ranks [lo, hi] (1-based order statistics) that hold the q-quantile of n samples with 95%
// confidence. The number of samples below the true quantile is Binomial(n, q): exact sums where
// the distribution is narrow or skewed, the normal approximation where it is wide.
std::pair<double, double> quantile_rank_interval(double n, double q) {
  double var = n * q * (1 - q);
  if (var >= 9) {
    double spread = kZ * std::sqrt(var);
    return {std::max(1.0, std::floor(n * q - spread)), std::min(n, std::ceil(n * q + spread))};
  }
  // Exact: lo = the largest l with P(B < l) <= 2.5%, hi = the smallest u with P(B < u) >= 97.5%.
  int64_t count = int64_t(n);
  double cdf = 0, lo = 1, hi = n;
  bool hi_set = false;
  for (int64_t k = 0; k <= count; ++k) {
    // cdf is P(B < k) here.
    if (cdf <= 0.025) lo = double(std::max<int64_t>(1, k));
    if (!hi_set && cdf >= 0.975) {
      hi = double(std::max<int64_t>(1, k));
      hi_set = true;
    }
    double log_pmf = std::lgamma(n + 1) - std::lgamma(double(k) + 1) -
                     std::lgamma(n - double(k) + 1) + double(k) * std::log(q) +
                     (n - double(k)) * std::log1p(-q);
    cdf += std::exp(log_pmf);
  }
  return {lo, hi};
}

Interval stat_interval(const HdrHistogram& h, const std::string& stat, double scale) {
  double n = double(h.total_count());
  if (stat == "mean") {
    double half = kZ * h.stddev() / std::sqrt(n) / scale;
    double m = h.mean() / scale;
    return {m - half, m + half};
  }
  double q = stat == "p999" ? 0.999 : std::stod(stat.substr(1)) / 100.0;
  auto [lo_rank, hi_rank] = quantile_rank_interval(n, q);
  return {double(h.value_at_percentile(100.0 * lo_rank / n)) / scale,
          double(h.value_at_percentile(100.0 * hi_rank / n)) / scale};
}

std::optional<double> pct(std::optional<double> b, std::optional<double> c) {
  if (!b || !c || *b == 0) return std::nullopt;
  return (*c - *b) / *b * 100.0;
}

void compare_group(std::vector<CompareRow>& rows, const std::string& group, const GroupStats& b,
                   const GroupStats& c) {
  static const char* kStats[] = {"p50", "p90", "p99", "mean"};
  for (Metric m : {Metric::kTtft, Metric::kTtfo, Metric::kItl, Metric::kTpot, Metric::kE2e,
                   Metric::kDecodeTps, Metric::kOutputTokens}) {
    const HdrHistogram* hb = b.histogram(m);
    const HdrHistogram* hc = c.histogram(m);
    bool has_b = hb && hb->total_count() > 0, has_c = hc && hc->total_count() > 0;
    if (!has_b && !has_c) continue;
    double scale = is_time(m) ? 1000.0 : 1.0;
    for (const char* st : kStats) {
      CompareRow row{group, std::string(name(m)), st, std::string(unit(m)), {}, {}, {}, false};
      if (has_b) row.baseline = stat_value(*hb, st, scale);
      if (has_c) row.current = stat_value(*hc, st, scale);
      row.change_pct = pct(row.baseline, row.current);
      if (has_b && has_c) {
        Interval ib = stat_interval(*hb, st, scale), ic = stat_interval(*hc, st, scale);
        row.significant = ib.hi < ic.lo || ic.hi < ib.lo;
      }
      rows.push_back(std::move(row));
    }
  }
}

void compare_totals(std::vector<CompareRow>& rows, const RunResult& b, const RunResult& c) {
  auto add = [&](const char* metric, const char* unit, std::optional<double> vb,
                 std::optional<double> vc) {
    rows.push_back(CompareRow{"total", metric, "", unit, vb, vc, pct(vb, vc), false});
  };
  add("requests_per_s", "req/s", b.requests_per_s(), c.requests_per_s());
  add("output_tokens_per_s", "tokens/s", b.output_tokens_per_s(), c.output_tokens_per_s());
  // Client-cancelled share of the requests: shown when either run cancelled any (scenario
  // `cancel:`), so two runs with different cancel shares are not compared blind.
  if (b.total.counters.client_cancelled > 0 || c.total.counters.client_cancelled > 0) {
    auto cancelled = [](const RunResult& r) -> std::optional<double> {
      const Counters& k = r.total.counters;
      return k.requests ? std::optional<double>(double(k.client_cancelled) / double(k.requests))
                        : std::nullopt;
    };
    add("client_cancelled_share", "fraction", cancelled(b), cancelled(c));
  }
  // Where output tokens came from: shown when either run counted any itself (chunks, or the
  // scenario's tokenizer), so output_tokens_per_s of a usage run is not compared blind with one
  // whose tokens are another count. Shares of the requests with known tokens.
  auto source_share = [](const RunResult& r, int64_t Counters::*field) -> std::optional<double> {
    const Counters& k = r.total.counters;
    const int64_t known = k.tokens_from_usage + k.tokens_counted + k.tokens_tokenized;
    return known ? std::optional<double>(double(k.*field) / double(known)) : std::nullopt;
  };
  const struct {
    const char* metric;
    int64_t Counters::*field;
  } sources[] = {{"tokens_counted_share", &Counters::tokens_counted},
                 {"tokens_tokenized_share", &Counters::tokens_tokenized}};
  for (const auto& s : sources) {
    if (b.total.counters.*s.field > 0 || c.total.counters.*s.field > 0)
      add(s.metric, "fraction", source_share(b, s.field), source_share(c, s.field));
  }
  auto err = [](const RunResult& r) -> std::optional<double> {
    const Counters& k = r.total.counters;
    return k.requests ? std::optional<double>(double(k.failed) / double(k.requests)) : std::nullopt;
  };
  CompareRow row{"total", "error_rate", "", "fraction", err(b), err(c), pct(err(b), err(c)), false};
  // Two proportions: significant when the normal-approximation intervals do not overlap.
  if (row.baseline && row.current) {
    auto half = [](double p, double n) { return kZ * std::sqrt(std::max(p * (1 - p), 1e-12) / n); };
    double nb = double(b.total.counters.requests), nc = double(c.total.counters.requests);
    row.significant =
        std::fabs(*row.baseline - *row.current) > half(*row.baseline, nb) + half(*row.current, nc);
  }
  rows.push_back(std::move(row));
}

}  // namespace

std::vector<CompareRow> compare_results(const RunResult& baseline, const RunResult& current) {
  std::vector<CompareRow> rows;
  compare_totals(rows, baseline, current);
  compare_group(rows, "total", baseline.total, current.total);
  if (baseline.groups.size() > 1 || current.groups.size() > 1) {
    std::map<std::string, const GroupStats*> cur;
    for (const GroupResult& g : current.groups) cur[group_key(g.stats.labels)] = &g.stats;
    for (const GroupResult& g : baseline.groups) {
      auto it = cur.find(group_key(g.stats.labels));
      if (it != cur.end()) compare_group(rows, it->first, g.stats, *it->second);
    }
  }
  return rows;
}

Expected<FailOnRule> parse_fail_on(const std::string& text) {
  FailOnRule rule;
  rule.text = text;
  auto bad = [&](const std::string& why) {
    return Error{"--fail-on '" + text + "': " + why +
                 " (expected e.g. 'ttft.p99>+10%', 'output_tokens_per_s<-5%', 'e2e.p50>+200ms')"};
  };
  size_t op_pos = text.find_first_of("<>");
  if (op_pos == std::string::npos) return bad("no operator < or >");
  std::string left = text.substr(0, op_pos);
  size_t rhs = op_pos + 1;
  bool or_equal = rhs < text.size() && text[rhs] == '=';
  if (or_equal) ++rhs;
  rule.op = text[op_pos] == '>' ? (or_equal ? SloOp::kGe : SloOp::kGt)
                                : (or_equal ? SloOp::kLe : SloOp::kLt);
  auto trim = [](std::string s) {
    size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  left = trim(left);
  std::string right = trim(text.substr(rhs));
  size_t colon = left.find(':');
  if (colon != std::string::npos) {
    std::string sel = trim(left.substr(0, colon));
    size_t eq = sel.find('=');
    if (eq == std::string::npos) return bad("a group selector reads key=value");
    rule.variable.group = SloGroupSelector{trim(sel.substr(0, eq)), trim(sel.substr(eq + 1))};
    left = trim(left.substr(colon + 1));
  }
  if (left.empty()) return bad("no variable");
  size_t dot = left.rfind('.');
  static const char* kStats[] = {"count", "min", "mean", "stddev", "p50",
                                 "p90",   "p95", "p99",  "p999",   "max"};
  bool is_stat = false;
  if (dot != std::string::npos)
    for (const char* s : kStats) is_stat = is_stat || left.substr(dot + 1) == s;
  if (is_stat) {
    rule.variable.kind = SloVarKind::kMetricStat;
    rule.variable.metric = left.substr(0, dot);
    rule.variable.stat = left.substr(dot + 1);
    if (!units_of_name(rule.variable.metric))
      return bad("unknown metric '" + rule.variable.metric + "'");
  } else {
    rule.variable.kind = SloVarKind::kTotal;
    rule.variable.metric = left;
  }
  rule.variable.text = left;
  if (right.empty()) return bad("no threshold");
  if (right.back() == '%') {
    rule.relative = true;
    right.pop_back();
    char* end = nullptr;
    rule.threshold = std::strtod(right.c_str(), &end);
    if (end == right.c_str() || *end) return bad("'" + right + "%' is not a number");
  } else {
    char* end = nullptr;
    double v = std::strtod(right.c_str(), &end);
    if (end == right.c_str()) return bad("'" + right + "' is not a number");
    std::string unit = end;
    if (!unit.empty()) {
      std::string digits = right.substr(0, size_t(end - right.c_str()));
      if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.erase(0, 1);
      auto ns = parse_duration_ns(digits + unit);
      if (!ns) return bad(ns.error());
      v = (v < 0 ? -1.0 : 1.0) * double(*ns) / 1e6;  // milliseconds
    }
    rule.threshold = v;
  }
  return rule;
}

FailOnOutcome evaluate_fail_on(const FailOnRule& rule, const RunResult& baseline,
                               const RunResult& current) {
  FailOnOutcome out;
  std::string why;
  auto b = assertion_variable(rule.variable, baseline, &why);
  if (!b) return {true, rule.text + ": baseline not evaluable: " + why};
  auto c = assertion_variable(rule.variable, current, &why);
  if (!c) return {true, rule.text + ": current not evaluable: " + why};
  double change;
  if (rule.relative) {
    if (*b == 0)
      return {*c != 0 && rule.op != SloOp::kLt && rule.op != SloOp::kLe,
              rule.text + ": baseline is 0, relative change undefined"};
    change = (*c - *b) / std::fabs(*b) * 100.0;
  } else {
    change = *c - *b;
  }
  switch (rule.op) {
    case SloOp::kGt:
      out.failed = change > rule.threshold;
      break;
    case SloOp::kGe:
      out.failed = change >= rule.threshold;
      break;
    case SloOp::kLt:
      out.failed = change < rule.threshold;
      break;
    case SloOp::kLe:
      out.failed = change <= rule.threshold;
      break;
    default:
      break;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %.6g -> %.6g (%+.4g%s), fails when change %s %+.4g%s",
                rule.variable.variable().c_str(), *b, *c, change, rule.relative ? "%" : "",
                std::string(slo_op_text(rule.op)).c_str(), rule.threshold,
                rule.relative ? "%" : "");
  out.message = buf;
  return out;
}

std::string format_compare_table(const std::vector<CompareRow>& rows, bool only_significant) {
  std::string s;
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %-20s %-5s %12s %12s %9s  %s\n", "group", "metric",
                "stat", "baseline", "current", "change", "");
  s += line;
  auto num = [](std::optional<double> v) { return v ? format_number("%.3f", *v) : "-"; };
  for (const CompareRow& r : rows) {
    if (only_significant && !r.significant) continue;
    std::string change = r.change_pct ? format_number("%+.1f%%", *r.change_pct) : "-";
    std::string group = r.group.size() > 24 ? r.group.substr(0, 21) + "..." : r.group;
    std::string metric = r.metric + (r.unit.empty() ? "" : " (" + r.unit + ")");
    std::snprintf(line, sizeof line, "%-24s %-20s %-5s %12s %12s %9s  %s\n", group.c_str(),
                  metric.substr(0, 20).c_str(), r.stat.c_str(), num(r.baseline).c_str(),
                  num(r.current).c_str(), change.c_str(),
                  r.significant ? "significant" : (r.baseline && r.current ? "within noise" : ""));
    s += line;
  }
  return s;
}

}  // namespace llmload::analysis
