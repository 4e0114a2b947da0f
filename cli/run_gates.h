// What a run does around the coordinator for CI and observability: evaluates the scenario's
// assertions (slo.assert + --assert) on the merged result, stops the run early when an
// abort_on_fail assertion is certain to fail, serves live /metrics (--prometheus), and at the end
// writes --junit, --summary-md and report.html (unless --no-report). Shared by `run`,
// `coordinator` and `sweep`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/run_options.h"
#include "coordinator/coordinator.h"

namespace llmload {
class MetricsServer;
}

namespace llmload::cli {

class RunGates {
 public:
  RunGates(const RunFlags& flags, const Scenario& scenario);
  ~RunGates();
  // Hooks the coordinator options; starts the /metrics server. Error: exit 2 material.
  Expected<bool> attach(CoordinatorOptions& co);
  // Writes the CI files and the report for a finished run; prints where they went.
  // Returns the exit code to use (a file that cannot be written is an internal error).
  int finish(RunOutcome& out, const std::string& out_dir);

 private:
  const RunFlags& flags_;
  const Scenario& scenario_;
  std::vector<std::string> details_;  // per assertion: the measured value, in words
  std::unique_ptr<MetricsServer> metrics_;
};

}  // namespace llmload::cli
