// One embedded run (DESIGN.md: `run` puts a coordinator and workers in one process over
// inproc://): the coordinator and `--workers` local workers on a prepared scenario, with the
// gates (assertions, JUnit, Markdown, report, /metrics). `run` does one; `sweep` one per step.
#pragma once

#include <atomic>

#include "cli/run_options.h"
#include "coordinator/coordinator.h"

namespace llmload::cli {

// Runs `p` (scenario, prompts, run id, out dir) and returns the exit code; `out` receives the
// outcome. `print_summary` prints the end-of-run table. `signals`: a SIGINT/SIGTERM counter the
// caller installed (a sweep, across its steps); null: this run installs its own.
int run_embedded_prepared(const RunFlags& f, PreparedRun& p, coord::RunOutcome& out,
                          bool print_summary, const std::atomic<int>* signals = nullptr);

}  // namespace llmload::cli
