// summary.json: writer and validating reader (schema "llmload.summary/1", docs/results.md).
//
// The writer is a pure function of the RunResult. The reader takes files from anywhere
// (merge, compare, report): it checks the schema version, every type, that each `hdr` decodes
// with the metric's expected settings and holds the stated count, and rebuilds GroupStats from
// the histograms. Its errors name the file and the field at fault:
//   "summary.json: metrics.ttft.hdr: not a valid histogram (...)".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "common/results.h"

namespace llmload {

nlohmann::json summary_to_json(const RunResult& result);
// Pretty-printed (2-space indent), newline-terminated.
std::string summary_to_string(const RunResult& result);
// Writes atomically; returns the path.
Expected<std::string> write_summary_json(const RunResult& result, const std::string& path);

// `source` prefixes every error message (usually the file name).
Expected<RunResult> summary_from_json(const nlohmann::json& j,
                                      std::string_view source = "summary.json");
Expected<RunResult> parse_summary(std::string_view text, std::string_view source = "summary.json");
Expected<RunResult> read_summary(const std::string& path);

}  // namespace llmload
