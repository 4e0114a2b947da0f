// Capacity planning: step the load over a list of levels, or search for the highest level that
// meets every SLO (grow geometrically until one fails, then bisect between the last passing and
// the first failing level to a precision). Pure logic over a step function, so the search is
// tested without running load; `llmload sweep` supplies real runs.
//
// The answer (the capacity a planner wants) is the passing level with the most goodput (ties:
// more throughput, then the lower level), not the highest passing level: past the knee a server
// can still meet every SLO while doing less useful work. The highest passing level and the
// saturation point are kept as separate facts beside it.
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
  int workers_asked = 0;  // workers the sweep asked for at this step (0: not recorded)
  bool passed() const { return exit_code == 0; }
  // Workers that ran the step (result.run.workers), and the ids of those lost during it.
  int workers_ran() const { return int(result.run.workers.size()); }
  std::vector<std::string> lost_workers() const;
};

struct SweepPlan {
  bool concurrency = true;     // levels are concurrency (integers), else rates
  std::vector<double> levels;  // list mode: run each, in order
  bool search = false;         // search mode: min, max, factor, precision below
  double min = 1, max = 1024, factor = 2, precision = 0.1;
};

struct SweepOutcome {
  std::vector<SweepStep> steps;  // in the order they ran
  // The answer, the capacity: the passing step with the most goodput_per_s (ties: more output
  // tokens/s, then more requests/s, then the lower level). Index into steps.
  std::optional<size_t> best;
  std::optional<size_t> highest_passing;  // the highest passing level (index into steps)
  // Passing steps above `best` (they give less goodput, or as much with less throughput), by
  // level: said beside the answer.
  std::vector<size_t> passing_above_best;
  std::optional<double> saturated_at;  // throughput flat while latency climbs from this level on
  bool stopped = false;                // a step ended the sweep (exit 1, 2 or 4), or cancelled
};

// Runs the plan: `step(level)` runs one level. A step with exit code 1, 2 or 4 (internal
// error, configuration or pre-flight failure, abort) stops the sweep; so does `cancelled`
// returning true before a step (a signal between steps: no further step starts).
SweepOutcome run_sweep(const SweepPlan& plan, const std::function<SweepStep(double)>& step,
                       const std::function<bool()>& cancelled = {});

// Fills best, highest_passing, passing_above_best and saturated_at from o.steps (run_sweep and
// `llmload report SWEEP_DIR` use it).
void choose_answer(SweepOutcome& o);

// Throughput flat (< 10% more requests/s) for >= 30% more load while TTFT p50 grows > 20%:
// the lowest such level.
std::optional<double> detect_saturation(const std::vector<SweepStep>& steps_by_level);

// One row per step (by level): load, throughput, goodput, TTFT/TPOT/e2e percentiles, error
// rate, pass/fail overall and per assertion, the workers that ran it and those lost, and its
// role in the answer ("capacity", "highest_passing", "saturation", space-separated).
std::string sweep_csv(const SweepOutcome& o, bool concurrency);
// sweep.csv read back: per row, what a report needs to find and label the step's results.
struct SweepCsvRow {
  double level = 0;
  int exit_code = 0;
  std::string results;    // the step's results directory, as the sweep saw it
  int workers_asked = 0;  // column workers_asked (0 when absent: a sweep.csv of an older llmload)
  bool operator==(const SweepCsvRow&) const = default;
};
struct SweepCsv {
  bool concurrency = true;  // the first column: concurrency, else rate
  std::vector<SweepCsvRow> rows;
};
// Parses sweep_csv's text (columns found by name; exit_code and results are required). Errors
// name source:line.
Expected<SweepCsv> parse_sweep_csv(const std::string& text, const std::string& source);
// The terminal table by level, then the answer (capacity), the higher passing levels that give
// less, the highest passing level, the saturation point and, per step, lost workers and steps
// run on fewer workers than asked.
std::string sweep_table(const SweepOutcome& o, bool concurrency);
// The lines after the table from "answer:" on (also shown in the sweep's report.html).
std::vector<std::string> sweep_answer_lines(const SweepOutcome& o, bool concurrency);

}  // namespace llmload::analysis
