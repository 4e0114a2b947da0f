// The throughput-versus-latency curve of a sweep (analysis/gates/sweep.h): one point per
// step in load order, x the achieved throughput, y the latency the SLO is about, with the SLO as
// a horizontal line and the answer marked: the capacity, the passing level with the most goodput
// (analysis/gates/sweep.h choose_answer). Its field and CSS class keep the older name "knee";
// the saturation point (the knee of the curve) and the highest passing level are separate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/gates/sweep.h"
#include "common/slo_expr.h"

namespace llmload::analysis {

struct SweepCurvePoint {
  double level = 0;       // concurrency or requests/s asked for
  double throughput = 0;  // achieved, in the curve's throughput unit
  std::optional<double> latency_ms;
  bool passed = false;  // the step completed and met every SLO
};

struct SweepCurve {
  std::string label;                      // the sweep's name in legends (results directory)
  bool concurrency = true;                // levels are concurrency, else rates
  bool tokens_per_s = true;               // throughput is output tokens/s, else requests/s
  std::string latency_variable;           // "ttft.p99": the y axis
  std::vector<SweepCurvePoint> points;    // by level
  std::optional<double> slo_ms;           // the SLO's limit on latency_variable
  std::string slo_text;                   // the assertion as written
  std::optional<size_t> knee;             // the capacity (the answer): index into points
  std::optional<size_t> highest_passing;  // the highest passing level: index into points
  std::optional<double> saturated_at;     // level where throughput went flat
  // The sweep's answer in words (sweep_answer_lines): the capacity, higher passing levels that
  // give less, the highest passing level, saturation, lost workers and short-handed steps.
  std::vector<std::string> answer;
};

// The y variable is the first assertion on a time metric's statistic with `<` or `<=` (its limit
// is the SLO line); without one, ttft.p99 and no line. x is output tokens/s when every step
// produced tokens, else requests/s.
SweepCurve make_sweep_curve(const SweepOutcome& o, bool concurrency,
                            const std::vector<SloAssertion>& asserts, const std::string& label);

// One chart, one series per curve (data-series = its label), every step a dot
// (<circle class="step pass|fail">), each capacity a <circle class="knee"> labelled "capacity:
// LEVEL",
// and the first curve's SLO as the line (class "slo"). Curves of different x units are drawn in
// the first curve's unit only. "" when no curve has a point with a latency.
std::string sweep_chart_svg(const std::vector<SweepCurve>& curves);

// "concurrency 16" / "rate 2.5/s".
std::string sweep_level_text(double level, bool concurrency);

}  // namespace llmload::analysis
