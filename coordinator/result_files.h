// The files of a run's --out directory that the coordinator writes (DESIGN.md "Results"):
//   timeseries.csv    appended every interval and flushed (a crash loses at most one interval);
//                     rewritten at the end with the target's /metrics columns when it was scraped
//   histograms.hlog   appended every interval and flushed: per metric, one line tagged with the
//                     metric's name (`ttft`: every group merged) and one per group tagged
//                     `ttft.<group key>` (commas and whitespace in the key replaced by '_')
//   requests.csv      with --requests-csv: appended as REPORTs bring rows, flushed per interval
//   requests.jsonl    with --requests-jsonl FILE (any path): the same rows as JSON lines, with
//                     the group's labels (common/requests_jsonl.h), flushed per interval
//   summary.json, summary.csv   written atomically at the end
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/group_stats.h"
#include "common/hdr_log.h"
#include "common/results.h"
#include "common/results_csv.h"

namespace llmload::coord {

class ResultFiles {
 public:
  // Creates `dir` (and parents) and the appended files. The error names the path.
  // `requests_jsonl`: the per-call log's path ("" for none).
  static Expected<ResultFiles> open(const std::string& dir, bool requests_csv,
                                    const std::string& requests_jsonl = "");
  ResultFiles(ResultFiles&&) noexcept = default;
  ResultFiles& operator=(ResultFiles&&) noexcept = default;

  void append_interval(const IntervalRow& row);
  // `groups` (by group key) gives requests.jsonl each row's labels.
  void append_requests(const std::vector<RequestRow>& rows,
                       const std::map<std::string, GroupStats>& groups);
  // One interval's histograms (coordinator monotonic times, converted to epoch milliseconds):
  // every metric holding values, for `total` and for each of `groups`.
  void append_histograms(const GroupStats& total, const std::map<std::string, GroupStats>& groups,
                         int64_t start_mono_ns, int64_t end_mono_ns);
  // Writes what was appended and flushes it to the OS.
  Expected<bool> flush();
  // summary.json + summary.csv (atomic), then closes the appended files.
  Expected<bool> finish(const RunResult& result);
  const std::string& dir() const { return dir_; }

 private:
  ResultFiles(std::string dir, AppendingCsvWriter ts, std::optional<AppendingCsvWriter> req,
              std::optional<AppendingCsvWriter> jsonl, HdrLogWriter hlog, int64_t mono_to_wall_ns,
              int64_t base_ms)
      : dir_(std::move(dir)),
        timeseries_(std::move(ts)),
        requests_(std::move(req)),
        jsonl_(std::move(jsonl)),
        hlog_(std::move(hlog)),
        mono_to_wall_ns_(mono_to_wall_ns),
        base_ms_(base_ms) {}
  void write_histograms(const GroupStats& g, const std::string& suffix, int64_t start_ms,
                        int64_t end_ms);
  std::string dir_;
  AppendingCsvWriter timeseries_;
  std::optional<AppendingCsvWriter> requests_;
  std::optional<AppendingCsvWriter> jsonl_;  // requests.jsonl lines (no header)
  HdrLogWriter hlog_;
  int64_t mono_to_wall_ns_;          // wall = mono + this
  int64_t base_ms_;                  // the hlog's BaseTime (epoch ms)
  std::optional<Error> hlog_error_;  // the first failed hlog write, reported by flush()
};

}  // namespace llmload::coord
