#include "analysis/report/sweep_chart.h"

#include <algorithm>
#include <cstdio>

#include "analysis/gates/assertions.h"
#include "analysis/report/svg_chart.h"
#include "common/metrics.h"
#include "common/number_format.h"

namespace llmload::analysis {
namespace {

bool is_latency_slo(const SloAssertion& a) {
  if (a.kind != SloVarKind::kMetricStat || a.stat == "count") return false;
  if (a.op != SloOp::kLt && a.op != SloOp::kLe) return false;
  auto m = parse_metric(a.metric);
  return m && is_time(*m);
}

}  // namespace

std::string sweep_level_text(double level, bool concurrency) {
  return concurrency ? "concurrency " + format_general(level)
                     : "rate " + format_general(level) + "/s";
}

SweepCurve make_sweep_curve(const SweepOutcome& o, bool concurrency,
                            const std::vector<SloAssertion>& asserts, const std::string& label) {
  SweepCurve c;
  c.label = label;
  c.concurrency = concurrency;
  c.saturated_at = o.saturated_at;
  c.answer = sweep_answer_lines(o, concurrency);
  SloAssertion y;
  y.kind = SloVarKind::kMetricStat;
  y.metric = "ttft";
  y.stat = "p99";
  for (const SloAssertion& a : asserts)
    if (is_latency_slo(a)) {
      y = a;
      c.slo_ms = a.value;
      c.slo_text = a.text;
      break;
    }
  c.latency_variable = y.variable();

  std::vector<const SweepStep*> steps;
  for (const SweepStep& s : o.steps) steps.push_back(&s);
  std::stable_sort(steps.begin(), steps.end(),
                   [](const SweepStep* a, const SweepStep* b) { return a->level < b->level; });
  for (const SweepStep* s : steps)
    c.tokens_per_s = c.tokens_per_s && s->result.total.counters.output_tokens > 0;
  if (steps.empty()) c.tokens_per_s = false;
  const SweepStep* best = o.best ? &o.steps[*o.best] : nullptr;
  for (const SweepStep* s : steps) {
    SweepCurvePoint p;
    p.level = s->level;
    p.throughput = c.tokens_per_s ? s->result.output_tokens_per_s() : s->result.requests_per_s();
    p.latency_ms = assertion_variable(y, s->result);
    p.passed = s->passed();
    if (s == best) c.knee = c.points.size();
    if (o.highest_passing && s == &o.steps[*o.highest_passing]) c.highest_passing = c.points.size();
    c.points.push_back(p);
  }
  return c;
}

std::string sweep_chart_svg(const std::vector<SweepCurve>& curves) {
  if (curves.empty()) return "";
  const SweepCurve& first = curves.front();
  ChartSpec spec;
  spec.id = "sweep-curve";
  spec.title = "throughput vs " + first.latency_variable;
  spec.x_label = first.tokens_per_s ? "output tokens/s" : "requests/s";
  spec.y_label = first.latency_variable + " (ms)";
  spec.x_from_zero = true;
  spec.width = 720;
  spec.height = 360;
  for (const SweepCurve& c : curves)
    if (c.slo_ms) {
      spec.hline = c.slo_ms;
      spec.hline_label = "SLO " + c.slo_text;
      break;
    }
  std::vector<ChartSeries> series;
  for (const SweepCurve& c : curves) {
    if (c.tokens_per_s != first.tokens_per_s) continue;
    ChartSeries s{c.label, {}};
    for (size_t i = 0; i < c.points.size(); ++i) {
      const SweepCurvePoint& p = c.points[i];
      if (!p.latency_ms) continue;
      s.points.push_back({p.throughput, *p.latency_ms});
      std::string title = sweep_level_text(p.level, c.concurrency) + ": " +
                          format_number("%.4g ", p.throughput) + spec.x_label + ", " +
                          c.latency_variable + " " + format_number("%.4g ms", *p.latency_ms) +
                          (p.passed ? ", passed" : ", FAILED");
      spec.markers.push_back(ChartMarker{p.throughput, *p.latency_ms,
                                         p.passed ? "step pass" : "step fail", "", title});
      if (c.knee && *c.knee == i)
        spec.markers.push_back(
            ChartMarker{p.throughput, *p.latency_ms, "knee",
                        "capacity: " + sweep_level_text(p.level, c.concurrency),
                        "the answer (most goodput meeting every SLO): " + title});
    }
    if (!s.points.empty()) series.push_back(std::move(s));
  }
  if (series.empty()) return "";
  return svg_line_chart(spec, series);
}

}  // namespace llmload::analysis
