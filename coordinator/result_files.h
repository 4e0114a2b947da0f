// The files of a run's --out directory that the coordinator writes (DESIGN.md "Results"):
//   timeseries.csv    appended every interval and flushed (a crash loses at most one interval)
//   histograms.hlog   appended every interval and flushed (when the log writer is available)
//   requests.csv      with --requests-csv: appended as REPORTs bring rows, flushed per interval
//   summary.json, summary.csv   written atomically at the end
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/results.h"
#include "common/results_csv.h"

namespace llmload {

class ResultFiles {
 public:
  // Creates `dir` (and parents) and the appended files. The error names the path.
  static Expected<ResultFiles> open(const std::string& dir, bool requests_csv);
  ResultFiles(ResultFiles&&) noexcept = default;
  ResultFiles& operator=(ResultFiles&&) noexcept = default;

  void append_interval(const IntervalRow& row);
  void append_requests(const std::vector<RequestRow>& rows);
  // Writes what was appended and flushes it to the OS.
  Expected<bool> flush();
  // summary.json + summary.csv (atomic), then closes the appended files.
  Expected<bool> finish(const RunResult& result);
  const std::string& dir() const { return dir_; }

 private:
  ResultFiles(std::string dir, AppendingCsvWriter ts, std::optional<AppendingCsvWriter> req)
      : dir_(std::move(dir)), timeseries_(std::move(ts)), requests_(std::move(req)) {}
  std::string dir_;
  AppendingCsvWriter timeseries_;
  std::optional<AppendingCsvWriter> requests_;
};

}  // namespace llmload
