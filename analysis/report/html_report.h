// The self-contained HTML report: one file, no network access needed to view it, no
// JavaScript; charts are inline SVG (svg_chart.h). A pure function of the results it is given.
// Several results are overlaid for comparison (a baseline and a current run, or several models).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/rating.h"
#include "analysis/report/sweep_chart.h"
#include "common/expected.h"
#include "common/results.h"

namespace llmload::analysis {

struct ReportRun {
  std::string label;  // shown in legends: the run id or the directory name
  RunResult result;
  std::vector<IntervalRow> intervals;  // from timeseries.csv, may be empty
};

// `sweeps`: for a sweep, its throughput-versus-latency curve (sweep_chart.h) in a "Sweep"
// section (chart id "sweep-curve", table id "sweep"); the steps are given as `runs`.
// Time-series charts draw each run's stage boundaries (its resolved scenario's load.stages) as
// vertical lines.
std::string html_report(const std::vector<ReportRun>& runs,
                        const std::vector<RatingTier>& tiers = default_rating_tiers(),
                        const std::vector<SweepCurve>& sweeps = {});

// Seconds since the measured window began at which each stage of the resolved scenario's
// load.stages ends (stages start with the window, after warmup). Empty without stages.
std::vector<double> stage_boundaries_s(const nlohmann::json& scenario);

// Reads a results directory (or a summary.json path): summary.json, and timeseries.csv beside
// it when present. Errors name the file.
Expected<ReportRun> load_report_run(const std::string& path);

// A sweep's results directory (sweep.csv and one directory per step): its curve (knee: the
// highest level that passed, SLO: the steps' assertions) and the steps' runs, labelled by level.
// A step whose directory holds no summary.json (it stopped before load) is left out. Errors
// name the file.
struct ReportSweep {
  SweepCurve curve;
  std::vector<ReportRun> steps;
};
Expected<ReportSweep> load_report_sweep(const std::string& dir);

}  // namespace llmload::analysis
