// Command-line overrides applied on top of a scenario (DESIGN.md "One binary, subcommands").
// Each one set replaces what the file says, and is recorded in Scenario::overrides as written
// (header values as templates: a resolved secret never lands there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/scenario.h"

namespace llmload {

struct Overrides {
  std::optional<std::string> target;    // --target URL|mock: every target's url (one target:
                                        // that target; several: all of them get this url)
  std::optional<std::string> api;       // --api NAME
  std::optional<std::string> model;     // --model NAME: the single model of every target
  std::optional<int64_t> concurrency;   // --concurrency N: concurrency mode, stages dropped
  std::optional<double> rate;           // --rate R: rate mode, stages dropped
  std::optional<std::string> duration;  // --duration 60s  } either one replaces BOTH of the
  std::optional<int64_t> requests;      // --requests N    } scenario's limits
  std::optional<std::string> warmup;    // --warmup 10s
  std::optional<std::string> grace;     // --grace 30s
  std::optional<std::string> interval;  // --interval 1s
  std::vector<std::string> headers;     // --header 'Name: value' (repeatable; ${VAR} allowed)
  bool insecure = false;                // --insecure
  std::optional<std::string> ca_file;   // --ca-file FILE (relative to the working directory)
  std::vector<std::string> asserts;     // --assert EXPR (repeatable): appended to slo.assert
  std::optional<std::string> target_metrics;  // --target-metrics URL|mock: the first target's
                                              // metrics_url (the others' cleared)
  // --wait-ready 60s: every target's wait_ready
  std::optional<std::string> wait_ready;
  // --tokenizer FILE (relative to the working directory): prompts.tokenizer
  std::optional<std::string> tokenizer;

  bool empty() const;
};

// Applies `o` to `s`, records each override in s.overrides, then re-checks the whole scenario
// (check_scenario). Returns every problem found (empty: success); `s` may be partly updated on
// failure and must then not be used.
std::vector<std::string> apply_overrides(Scenario& s, const Overrides& o);

// What `run`, `coordinator`, `sweep` and `validate` call: reads the file, applies the overrides,
// then checks the whole (so `--requests 10` completes a file that has no limit of its own).
// The error holds every problem, one per line.
Expected<Scenario> load_scenario_with_overrides(const std::string& path, const Overrides& o);

}  // namespace llmload
