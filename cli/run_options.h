// What `run` and `coordinator` share (DESIGN.md "One binary, subcommands"): the run flags beyond
// the scenario overrides (cli/override_flags.h), signal handling, and preparing a run: load the
// scenario, apply overrides, resolve secrets, start the built-in mock for a `mock` target, sample
// the prompts the run needs, name the run and its results directory; and the summary printed
// at the end.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/overrides.h"
#include "common/results.h"
#include "common/scenario.h"

namespace llmload::mock {
class MockServer;
}

namespace llmload::cli {

struct RunFlags {
  std::string scenario_path;
  Overrides overrides;
  std::string out_dir;     // --out DIR (default results/<run-id>/)
  std::string junit;       // --junit FILE (written by the gates)
  std::string summary_md;  // --summary-md FILE (written by the gates)
  std::string prometheus;  // --prometheus ADDR
  // --prometheus-linger DURATION: keep /metrics up this long after the run (final numbers) so
  // the last scrape sees them; parsed by the gates (analysis/gates/run_gates.h). Empty: no linger.
  std::string prometheus_linger;
  bool requests_csv = false;
  std::string requests_jsonl;  // --requests-jsonl FILE
  bool quiet = false;
  bool json = false;
  bool no_report = false;
  int workers = 1;  // run: local workers
  int threads = 0;  // run: event loops per local worker (0: cores)
  std::string timestamps = "kernel";  // run: --timestamps kernel|clock for the local workers
};

// --timestamps kernel|clock (default kernel): how a worker stamps each socket read (DESIGN.md
// "How timing is taken").
void add_timestamps_flag(CLI::App* sub, std::string& timestamps);

// Adds SCENARIO, the overrides and the run flags; `embedded` adds --workers, --threads and
// --timestamps;
// `load_levels` adds --concurrency N and --rate R (sweep declares its own lists).
void add_run_flags(CLI::App* sub, RunFlags& f, bool embedded, bool load_levels = true);

struct PreparedRun {
  Scenario scenario;                    // overrides applied, secrets resolved, mock URL filled
  std::vector<ResolvedPrompt> prompts;  // the ones the run needs
  std::string run_id;
  std::string out_dir;
  std::string command;  // this process's command line (secrets are never in argv)
  std::shared_ptr<mock::MockServer> mock;  // running when a target was `mock`
};
// Errors are configuration errors (exit 2), every problem on its own line.
Expected<PreparedRun> prepare_run(const RunFlags& f);

// SIGINT/SIGTERM: the first increments `count` (the coordinator drains and writes aborted
// results); a second exits at once with code 4 when `second_exits`.
void install_signal_counter(std::atomic<int>* count, bool second_exits);

// The compact end-of-run table (80 columns) on `out`.
void print_run_summary(const RunResult& r, const std::string& out_dir, std::FILE* out);

}  // namespace llmload::cli
