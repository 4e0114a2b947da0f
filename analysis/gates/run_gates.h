// What a run does around the coordinator for CI and observability, as a component of its own
// (the cli hooks it into the coordinator; cli/run_gates.h): evaluates the scenario's assertions
// (slo.assert + --assert) on the merged result, says when an abort_on_fail assertion is certain
// to fail, serves live /metrics (--prometheus), and at the end writes --junit, --summary-md and
// report.html (unless --no-report).
//
// /metrics at the end: finish() sets the final exposition (the result's groups, exactly the
// numbers of summary.json). With --prometheus-linger D the server stays up for D more when the
// gates are destroyed (after the terminal summary), so a scraper's last scrape sees the final
// numbers; a SIGINT/SIGTERM ends the wait, and a run already stopped by a signal, or one that
// failed before load (status failed: pre-flight, configuration, internal), does not wait.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/group_stats.h"
#include "common/results.h"
#include "common/slo_expr.h"

namespace llmload::analysis {

class MetricsServer;

struct RunGatesOptions {
  std::vector<SloAssertion> asserts;  // slo.assert, then --assert
  std::string junit;                  // --junit FILE ("" : none)
  std::string summary_md;             // --summary-md FILE ("" : none)
  std::string prometheus;             // --prometheus ADDR ("" : no /metrics)
  std::string prometheus_linger;      // --prometheus-linger DURATION ("" : no linger)
  bool no_report = false;             // --no-report: no report.html
  // The run's groups (scenario_group_labels): /metrics shows each from the start, at zero, so
  // Prometheus's rate() sees a group's whole rise, not only what came after its first scrape.
  std::vector<Labels> groups;
};

// One interval's live numbers, cumulative since the measured window began.
struct LiveNumbers {
  const std::map<std::string, GroupStats>& groups;  // by group key
  const GroupStats& total;                          // all groups
  double elapsed_s = 0;
  int64_t in_flight = 0;
  int64_t workers_alive = 0;
  double loop_lag_ms = 0;  // worst loop lag of the interval
};

// The longest --prometheus-linger accepted.
inline constexpr int64_t kMaxPrometheusLingerNs = 3600'000'000'000;

class RunGates {
 public:
  explicit RunGates(RunGatesOptions options);
  ~RunGates();  // lingers (see above), then stops /metrics
  RunGates(const RunGates&) = delete;
  RunGates& operator=(const RunGates&) = delete;

  // Checks --prometheus-linger and starts the /metrics server. `signals` counts SIGINT/SIGTERM
  // (null: none). Error (a bad --prometheus or --prometheus-linger): exit 2 material.
  Expected<bool> start(const std::atomic<int>* signals);
  bool has_assertions() const { return !options_.asserts.empty(); }
  // on_interval() has work to do: /metrics is served or an assertion is abort_on_fail.
  bool watches_intervals() const;

  // Sets r.assertions from the assertions; keeps each one's measured value in words (details()).
  void evaluate(RunResult& r);
  const std::vector<std::string>& details() const { return details_; }
  // Updates /metrics; returns why the run must abort (an abort_on_fail assertion certain to fail
  // on these numbers), or "" to go on.
  std::string on_interval(const LiveNumbers& v);
  // Serves the final numbers and writes the CI files and the report for a finished run (the
  // report only when results_written); prints what cannot be written. Returns the exit code to
  // use: exit_code, or an internal error when a file cannot be written.
  int finish(const RunResult& r, int exit_code, const std::string& message, bool results_written,
             const std::string& out_dir);

  int metrics_port() const;          // 0: no /metrics
  std::string metrics_text() const;  // the exposition served now ("" : no /metrics)

 private:
  RunGatesOptions options_;
  bool any_abort_ = false;
  std::vector<std::string> details_;  // per assertion: the measured value, in words
  std::unique_ptr<MetricsServer> metrics_;
  // Every group to export: the scenario's (at zero until seen) and any seen live.
  std::vector<GroupStats> exported(const std::map<std::string, GroupStats>& seen) const;
  int64_t linger_ns_ = 0;
  const std::atomic<int>* signals_ = nullptr;
  double last_loop_lag_s_ = 0;
  bool final_numbers_ = false;  // finish() served a run that sent load: only then a linger
};

}  // namespace llmload::analysis
