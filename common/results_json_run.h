// The pieces of summary.json's writer and reader shared by its two files: results_json.cpp
// (the whole document) and results_json_run.cpp (the `run` section). Internal to them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/results.h"

namespace llmload::summary_json {

// A counters object (requests, ok, failed, tokens, ...), over json or ordered_json.
template <class J>
J counters_json(const Counters& c);
// `run`, over json or ordered_json.
template <class J>
J run_json(const RunInfo& r);

// Reads a counters object at `path` into c; `extras_required`: the fields added later must be
// there (top-level and group totals) or may be absent (older files, worker totals).
void read_counters(const nlohmann::json& v, const std::string& path, Counters& c,
                   bool extras_required);
// Reads and checks `run`.
RunInfo read_run(const nlohmann::json& v);
// A stated derived figure against the one computed from the data (relative 1e-9).
bool close_enough(double stated, double actual);

}  // namespace llmload::summary_json
