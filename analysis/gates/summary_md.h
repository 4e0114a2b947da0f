// A Markdown summary of a run, fit for a CI job summary ($GITHUB_STEP_SUMMARY and the like):
// status, headline totals, the main percentiles per group, errors and assertion outcomes.
#pragma once

#include <string>
#include <vector>

#include "common/results.h"

namespace llmload::analysis {

std::string summary_markdown(const RunResult& result, const std::vector<std::string>& details = {});

}  // namespace llmload::analysis
