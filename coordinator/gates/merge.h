// Merging runs exactly: summary.json files combine through their stored histograms (never by
// averaging percentiles), per group (same labels) and in total.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"
#include "common/results.h"

namespace llmload {

struct MergeInput {
  std::string source;  // the file it came from (named in errors and in the provenance)
  RunResult result;
};

struct MergeOptions {
  // The inputs ran at the same time (workers run separately against one target): the merged
  // window is the longest of theirs. Otherwise (runs from different days) the windows add up.
  bool concurrent = false;
};

// Refuses inputs that measure differently, saying why: a rate-mode run's ttft starts at the
// intended start, a concurrency-mode run's at the write, so the two never merge.
Expected<RunResult> merge_results(const std::vector<MergeInput>& inputs, const MergeOptions& opts);

// [{source, id, started_at, duration_s, status, requests}] for run.merged_from.
nlohmann::json merge_provenance(const std::vector<MergeInput>& inputs);

}  // namespace llmload
