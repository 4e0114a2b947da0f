// The self-contained HTML report: one file, no network access needed to view it, no
// JavaScript; charts are inline SVG (svg_chart.h). A pure function of the results it is given.
// Several results are overlaid for comparison (a baseline and a current run, or several models).
#pragma once

#include <string>
#include <vector>

#include "common/expected.h"
#include "common/results.h"
#include "coordinator/report/rating.h"

namespace llmload {

struct ReportRun {
  std::string label;  // shown in legends: the run id or the directory name
  RunResult result;
  std::vector<IntervalRow> intervals;  // from timeseries.csv, may be empty
};

std::string html_report(const std::vector<ReportRun>& runs,
                        const std::vector<RatingTier>& tiers = default_rating_tiers());

// Reads a results directory (or a summary.json path): summary.json, and timeseries.csv beside
// it when present. Errors name the file.
Expected<ReportRun> load_report_run(const std::string& path);

// Parses timeseries.csv text (header + rows); errors name the line.
Expected<std::vector<IntervalRow>> parse_timeseries_csv(const std::string& text,
                                                        const std::string& source);

}  // namespace llmload
