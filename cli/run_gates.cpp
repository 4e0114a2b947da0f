#include "cli/run_gates.h"

namespace llmload::cli {

RunGates::RunGates(const RunFlags& flags, const Scenario& scenario,
                   const std::vector<ResolvedPrompt>& prompts)
    : gates_(analysis::RunGatesOptions{scenario.slo.asserts, flags.junit, flags.summary_md,
                                       flags.prometheus, flags.prometheus_linger, flags.no_report,
                                       scenario_group_labels(scenario, prompts)}) {}

Expected<bool> RunGates::attach(coord::CoordinatorOptions& co) {
  if (gates_.has_assertions())
    co.evaluate_assertions = [this](RunResult& r) { gates_.evaluate(r); };
  auto started = gates_.start(co.signals);
  if (!started) return started;
  if (gates_.watches_intervals())
    co.on_interval = [this](const coord::LiveView& v) {
      return gates_.on_interval(analysis::LiveNumbers{v.groups, v.total, v.elapsed_s, v.in_flight,
                                                      v.workers_alive, v.loop_lag_ms});
    };
  return true;
}

int RunGates::finish(coord::RunOutcome& out, const std::string& out_dir) {
  return gates_.finish(out.result, out.exit_code, out.message, out.results_written, out_dir);
}

}  // namespace llmload::cli
