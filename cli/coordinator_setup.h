// What `llmload coordinator` and `llmload sweep --bind` share (one code path for a coordinator
// on a network endpoint): its flags (join and pre-flight timeouts, CURVE keys, the allow-list,
// --allow-insecure), the options they make, and one run on a bound coordinator with the gates.
// A sweep binds once and calls run_on_coordinator once per step; `coordinator` once.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>
#include <vector>

#include "cli/run_options.h"
#include "coordinator/coordinator.h"

namespace llmload::cli {

struct CoordinatorFlags {
  std::string bind;  // --bind (the caller declares it: its default differs)
  std::string join_timeout = "120s";
  std::string preflight_timeout = "60s";
  std::string curve_key;
  std::vector<std::string> allow_keys;
  bool allow_insecure = false;
};

// Adds --join-timeout, --preflight-timeout, --curve-key, --allow-keys and --allow-insecure.
void add_coordinator_flags(CLI::App* sub, CoordinatorFlags& f);

// Fills co.bind, the timeouts and the security options from the flags. Errors name the flag.
Expected<bool> apply_coordinator_flags(const CoordinatorFlags& f, coord::CoordinatorOptions& co);

// One run of `p` on the bound coordinator `c` with `workers` workers: sets the per-run options
// (workers, results directory, per-call logs, progress, command, the gates of `f`), runs, writes
// the gates' files and prints the run's message (prefixed `who`) and, when `print_summary`, the
// end-of-run table. `out` receives the outcome. Returns the exit code.
int run_on_coordinator(coord::Coordinator& c, int workers, const RunFlags& f, PreparedRun& p,
                       coord::RunOutcome& out, bool print_summary, const char* who);

}  // namespace llmload::cli
