// Hooks the run gates (analysis/gates/run_gates.h: assertions, abort_on_fail, live /metrics,
// --junit, --summary-md, report.html) into a coordinator run. Shared by `run`, `coordinator` and
// `sweep`; the logic is in analysis/, this is the wiring only.
#pragma once

#include "analysis/gates/run_gates.h"
#include "cli/run_options.h"
#include "coordinator/coordinator.h"

namespace llmload::cli {

class RunGates {
 public:
  // `prompts`: the run's, whose row labels name groups too.
  RunGates(const RunFlags& flags, const Scenario& scenario,
           const std::vector<ResolvedPrompt>& prompts);
  // Hooks the coordinator options (reads co.signals: set it first); starts the /metrics server.
  // Error (a bad --prometheus or --prometheus-linger): exit 2 material.
  Expected<bool> attach(coord::CoordinatorOptions& co);
  // Writes the CI files and the report for a finished run; prints where they went.
  // Returns the exit code to use (a file that cannot be written is an internal error).
  int finish(coord::RunOutcome& out, const std::string& out_dir);

 private:
  analysis::RunGates gates_;
};

}  // namespace llmload::cli
