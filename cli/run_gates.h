// What a run does around the coordinator for CI and observability: evaluates the scenario's
// assertions (slo.assert + --assert) on the merged result, stops the run early when an
// abort_on_fail assertion is certain to fail, serves live /metrics (--prometheus), and at the end
// writes --junit, --summary-md and report.html (unless --no-report). Shared by `run`,
// `coordinator` and `sweep`.
//
// /metrics at the end: finish() sets the final exposition (the result's groups, exactly the
// numbers of summary.json). With --prometheus-linger D the server stays up for D more when the
// gates are destroyed (after the terminal summary), so a scraper's last scrape sees the final
// numbers; a SIGINT/SIGTERM ends the wait, and a run already stopped by a signal, or one that
// failed before load (status failed: pre-flight, configuration, internal), does not wait.
#pragma once

#include <atomic>
#include <cstdint>
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
  // Hooks the coordinator options (reads co.signals: set it first); starts the /metrics server.
  // Error (a bad --prometheus or --prometheus-linger): exit 2 material.
  Expected<bool> attach(CoordinatorOptions& co);
  // Writes the CI files and the report for a finished run; prints where they went.
  // Returns the exit code to use (a file that cannot be written is an internal error).
  int finish(RunOutcome& out, const std::string& out_dir);

 private:
  const RunFlags& flags_;
  const Scenario& scenario_;
  std::vector<std::string> details_;  // per assertion: the measured value, in words
  std::unique_ptr<MetricsServer> metrics_;
  int64_t linger_ns_ = 0;
  const std::atomic<int>* signals_ = nullptr;
  double last_loop_lag_s_ = 0;
  bool final_numbers_ = false;  // finish() served a run that sent load: only then a linger
};

// The longest --prometheus-linger accepted.
inline constexpr int64_t kMaxPrometheusLingerNs = 3600'000'000'000;

}  // namespace llmload::cli
