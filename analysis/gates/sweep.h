// Capacity planning: step the load over a list of levels, or search for the highest level that
// meets every SLO (grow geometrically until one fails, then bisect between the last passing and
// the first failing level to a precision). Pure logic over a step function, so the search is
// tested without running load; `llmload sweep` supplies real runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/results.h"

namespace llmload::analysis {

struct SweepStep {
  double level = 0;   // concurrency or requests/s
  int exit_code = 0;  // of the step's run (0: completed and every assertion passed)
  RunResult result;
  std::string out_dir;
  bool passed() const { return exit_code == 0; }
};

struct SweepPlan {
  bool concurrency = true;     // levels are concurrency (integers), else rates
  std::vector<double> levels;  // list mode: run each, in order
  bool search = false;         // search mode: min, max, factor, precision below
  double min = 1, max = 1024, factor = 2, precision = 0.1;
};

struct SweepOutcome {
  std::vector<SweepStep> steps;        // in the order they ran
  std::optional<size_t> best;          // the highest passing level (index into steps)
  std::optional<double> saturated_at;  // throughput flat while latency climbs from this level on
  bool stopped = false;                // a step ended the sweep (exit 1, 2 or 4)
};

// Runs the plan: `step(level)` runs one level. A step with exit code 1, 2 or 4 (internal
// error, configuration or pre-flight failure, abort) stops the sweep.
SweepOutcome run_sweep(const SweepPlan& plan, const std::function<SweepStep(double)>& step);

// Throughput flat (< 10% more requests/s) for >= 30% more load while TTFT p50 grows > 20%:
// the lowest such level.
std::optional<double> detect_saturation(const std::vector<SweepStep>& steps_by_level);

// One row per step (by level): load, throughput, goodput, TTFT/TPOT/e2e percentiles, error
// rate, pass/fail overall and per assertion.
std::string sweep_csv(const SweepOutcome& o, bool concurrency);
// sweep.csv read back: per row, what a report needs to find and label the step's results.
struct SweepCsvRow {
  double level = 0;
  int exit_code = 0;
  std::string results;  // the step's results directory, as the sweep saw it
  bool operator==(const SweepCsvRow&) const = default;
};
struct SweepCsv {
  bool concurrency = true;  // the first column: concurrency, else rate
  std::vector<SweepCsvRow> rows;
};
// Parses sweep_csv's text (columns found by name; exit_code and results are required). Errors
// name source:line.
Expected<SweepCsv> parse_sweep_csv(const std::string& text, const std::string& source);
std::string sweep_table(const SweepOutcome& o, bool concurrency);

}  // namespace llmload::analysis
