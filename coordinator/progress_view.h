// The live view of a run (one line per interval):
//   terminal  a progress line redrawn in place: elapsed of total as a bar, requests/s, output
//             tokens/s, in-flight, TTFT p50/p99 of the last interval, errors, workers alive.
//             Past the measured window (a time-limited run finishing its requests in the
//             grace) the clock reads "grace +Ns", not "16s/15s"; during warmup "warmup Ns"; an
//             interval shorter than the report interval (the last one) says "partial 0.13s",
//             since its rates are over that fraction of a second
//   plain     the same fields as one plain line per interval (not a terminal: CI logs)
//   json      one JSON object per interval on stdout (--json)
//   quiet     nothing (--quiet); errors and the final verdict are still printed by the caller
// Formatting is pure (line()/json_line()); print() writes to the stream given.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace llmload::coord {

enum class ProgressMode : uint8_t { kTerminal, kPlain, kJson, kQuiet };

struct ProgressSample {
  double elapsed_s = 0;        // since the measured window began (negative during warmup)
  double total_s = 0;          // the measured window's planned length; 0 = unknown (request limit)
  int64_t requests_done = 0;   // measured requests finished so far
  int64_t requests_total = 0;  // the request limit; 0 = none
  double requests_per_s = 0;   // last interval
  double output_tokens_per_s = 0;
  int64_t in_flight = 0;
  std::optional<double> ttft_p50_ms;  // last interval
  std::optional<double> ttft_p99_ms;
  int64_t errors = 0;  // failed requests so far
  int64_t client_cancelled = 0;  // closed on purpose by the scenario's cancel: so far
  int workers_alive = 0;
  int workers_total = 0;
  double interval_s = 0;          // this interval's length (the rates are over it)
  double report_interval_s = 0;   // the scenario's report interval; 0 = unknown

  // "warmup" (elapsed < 0), "grace" (past a planned window), else "measured".
  const char* phase() const;
  // Shorter than the report interval (by more than 1 %): the last interval of a run.
  bool partial() const;
};

class ProgressView {
 public:
  ProgressView(ProgressMode mode, std::FILE* out) : mode_(mode), out_(out) {}
  // kTerminal when `out` is a terminal, else kPlain (unless json / quiet asked).
  static ProgressMode choose(bool json, bool quiet, std::FILE* out);

  void print(const ProgressSample& s);
  // Ends a terminal line (before other output and at the end).
  void finish();

  static std::string line(const ProgressSample& s, bool with_bar);
  static std::string json_line(const ProgressSample& s);

 private:
  ProgressMode mode_;
  std::FILE* out_;
  bool dirty_ = false;
};

}  // namespace llmload::coord
