// Merging runs exactly: summary.json files combine through their stored histograms (never by
// averaging percentiles), per group (same labels) and in total.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/hdr_log.h"
#include "common/results.h"

namespace llmload::analysis {

struct MergeInput {
  std::string source;  // the file it came from (named in errors and in the provenance)
  RunResult result;
};

struct MergeOptions {
  // The inputs ran at the same time (workers run separately against one target): the merged
  // window is the longest of theirs. Otherwise (runs from different days) the windows add up.
  bool concurrent = false;
};

// The result's run.merged_from lists the inputs in order (source, id, started_at, duration_s,
// status, requests). Refuses inputs that measure differently, saying why: a rate-mode run's ttft
// starts at the intended start, a concurrency-mode run's at the write, so the two never merge.
Expected<RunResult> merge_results(const std::vector<MergeInput>& inputs, const MergeOptions& opts);

// Merges interval logs (.hlog): every interval of every input, ordered by start time, each
// keeping its tag, in one log whose base time is the earliest start. Readers that sum a log
// (HistogramLogProcessor, `llmload report`) then see exactly the union of the inputs.
HdrLog merge_hdr_logs(const std::vector<HdrLog>& logs);
// The text of a merged log, ready to write.
Expected<std::string> hdr_log_text(const HdrLog& log, std::string_view comment);

}  // namespace llmload::analysis
