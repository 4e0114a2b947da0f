// HdrHistogram interval logs (.hlog): the text format of the reference HistogramLogWriter,
// readable by the standard tools (HistogramLogReader, HistogramLogProcessor, hdr-histogram-js):
//
//   #[Histogram log format version 1.3]
//   #[StartTime: 1763924400.000 (seconds since epoch), Sun Nov 23 19:00:00 UTC 2026]
//   #[BaseTime: 1763924400.000 (seconds since epoch)]
//   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//   Tag=ttft,0.000,1.000,153.087,HISTFAAAA...
//
// Each interval line: optional `Tag=NAME,`, the interval start in seconds relative to BaseTime,
// its length in seconds, the interval max divided by the max-value unit ratio (1000 for
// histograms of microseconds: milliseconds), and the histogram as compressed V2 base64.
// Interval times come from the histogram's start_time_ms / end_time_ms (epoch milliseconds)
// and the tag from its `tag` field.
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/hdr_histogram.h"

namespace llmload {

// A tag is written as `Tag=NAME,`: NAME must be non-empty and free of commas, whitespace and
// line breaks (as the reference writer requires). Empty tag = untagged line.
bool hdr_log_tag_valid(std::string_view tag);

// The header block: version, optional `#comment` lines (one per line of `comment`), StartTime,
// BaseTime and the CSV legend. Times in epoch milliseconds.
std::string hdr_log_header(int64_t start_time_ms, int64_t base_time_ms,
                           std::string_view comment = {});
// One interval line (with its '\n'). Error when the tag is invalid or end < start.
Expected<std::string> hdr_log_interval_line(const HdrHistogram& h, int64_t base_time_ms,
                                            double max_value_unit_ratio = 1000.0);

// Appends to a file as the run goes; every write is flushed, so a crash loses at most the
// interval being written.
class HdrLogWriter {
 public:
  // Creates (truncates) `path` and writes the header. Error names the path.
  static Expected<HdrLogWriter> create(const std::string& path, int64_t start_time_ms,
                                       int64_t base_time_ms, std::string_view comment = {},
                                       double max_value_unit_ratio = 1000.0);
  // Error on an invalid tag or a failed write (the message names the path).
  std::optional<Error> write(const HdrHistogram& interval);
  const std::string& path() const { return path_; }

 private:
  HdrLogWriter(std::string path, std::ofstream out, int64_t base_time_ms, double ratio)
      : path_(std::move(path)), out_(std::move(out)), base_time_ms_(base_time_ms), ratio_(ratio) {}
  std::string path_;
  std::ofstream out_;
  int64_t base_time_ms_;
  double ratio_;
};

struct HdrLog {
  std::optional<double> start_time_sec;  // from #[StartTime: ...], if present
  std::optional<double> base_time_sec;   // from #[BaseTime: ...], if present
  // Each interval with tag, start_time_ms and end_time_ms set (absolute epoch milliseconds,
  // resolved as the reference reader does: relative to BaseTime if given, else relative to
  // StartTime when the first timestamp lies more than a year before it, else absolute).
  std::vector<HdrHistogram> intervals;
};

// Parses log text. Errors read "SOURCE:LINE: what" (source is a file name or a label).
// max_counts_len bounds each histogram as in HdrHistogram::decode.
Expected<HdrLog> parse_hdr_log(std::string_view text, std::string_view source,
                               int64_t max_counts_len = 1 << 20);
// Reads and parses a file (refusing files over max_file_bytes).
Expected<HdrLog> read_hdr_log_file(const std::string& path, int64_t max_counts_len = 1 << 20,
                                   int64_t max_file_bytes = int64_t{1} << 30);

}  // namespace llmload
