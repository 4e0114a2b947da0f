// A reader of the Prometheus text exposition format (version 0.0.4), for a target's /metrics
// page (docs/metrics.md "Target metrics"). The page comes from a server we do not control, so
// the reader is bounded (page size, line length, labels per sample, samples kept) and never
// throws: a malformed line is skipped and counted, the first one's reason kept.
//
//   # HELP name text          comments, HELP and TYPE lines: skipped
//   name value [timestamp]    a sample
//   name{a="x",b="y\"z"} v    labels; values escape \\, \" and \n; a trailing comma is allowed
// Values: decimal or exponent floats, +Inf, -Inf, NaN (kept as such: callers decide).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace llmload {

struct PromLimits {
  std::size_t max_page_bytes = 4 * 1024 * 1024;  // a larger page is refused whole
  std::size_t max_line_bytes = 16 * 1024;        // a longer line is skipped
  std::size_t max_labels = 32;                   // a sample with more is skipped
  std::size_t max_samples = 20'000;              // samples past this are dropped (counted)
};

struct PromSample {
  std::string name;    // metric name, [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string labels;  // rendered: "" or {a="x",b="y"}, sorted by label name, values re-escaped
  double value = 0;
  std::string series() const { return name + labels; }  // how llmload names the series
};

struct PromPage {
  std::vector<PromSample> samples;  // in page order
  int64_t skipped = 0;              // malformed, over-long or over-limit lines
  std::string first_problem;        // "line 12: ..." for the first skipped line, "" when none
};

// Error only for a page over max_page_bytes; everything else is skipped and counted.
Expected<PromPage> parse_prom_text(std::string_view text, const PromLimits& limits = {});

}  // namespace llmload
