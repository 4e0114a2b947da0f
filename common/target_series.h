// The target's own /metrics, scraped during a run (docs/metrics.md "Target metrics"): which
// series are kept from a page, and what the run makes of them (per-series statistics, the
// server's output-token counter delta, the energy a DCGM exporter counted).
//
// Who scrapes: the run's first worker (worker/target_metrics.h), every interval; the samples
// travel in its interval REPORTs (IntervalSnapshot::target) and the coordinator folds them
// into one TargetMetrics (RunResult::target).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/prom_text.h"

namespace llmload {

// Series kept when the scenario lists none: every series of these metric-name prefixes that the
// server exposes (histogram `_bucket` series excepted), at most kMaxTargetSeries of them.
struct TargetMetricsPreset {
  std::string_view server;  // "llama.cpp", ...
  std::string_view prefix;  // "llamacpp:", ...
};
inline constexpr TargetMetricsPreset kTargetMetricsPresets[] = {
    {"llama.cpp", "llamacpp:"},
    {"vLLM", "vllm:"},
    {"TGI", "tgi_"},
    {"NVIDIA DCGM exporter", "DCGM_FI_DEV_"},
};
inline constexpr std::size_t kMaxTargetSeries = 128;
inline constexpr std::size_t kMaxTargetSeriesNameBytes = 512;

// The servers' cumulative output-token counters (the first one the page has is compared with
// our own output-token total) and DCGM's energy counter, in millijoules.
inline constexpr std::string_view kServerTokenCounters[] = {"llamacpp:tokens_predicted_total",
                                                            "vllm:generation_tokens_total",
                                                            "tgi_request_generated_tokens_sum"};
inline constexpr std::string_view kEnergyCounterMj = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";

// The series to keep from one page, by PromSample::series() name; non-finite values and names
// over kMaxTargetSeriesNameBytes are left out. `wanted` empty: the presets above. Otherwise
// each entry is a metric name (every label set of it), a series name with its labels as
// rendered (`name{gpu="0"}`), or a prefix ending in `*` (`vllm:*`). At most kMaxTargetSeries,
// in page order.
std::map<std::string, double> select_target_series(const PromPage& page,
                                                   const std::vector<std::string>& wanted);

// A series' metric name: `name{gpu="0"}` → `name`.
std::string_view series_metric(std::string_view series);

struct SeriesStats {
  int64_t samples = 0;
  double min = 0, max = 0, sum = 0, first = 0, last = 0;
  double mean() const { return samples > 0 ? sum / double(samples) : 0.0; }
  void add(double v);
  bool operator==(const SeriesStats&) const = default;
};

struct TargetMetrics {
  std::string url;          // the scraped URL (empty: nothing was scraped)
  int64_t scrapes = 0;      // scrapes that returned a page
  int64_t failed = 0;       // scrapes that did not
  std::string first_error;  // the first failure's reason
  std::map<std::string, SeriesStats> series;

  bool empty() const { return url.empty(); }
  void add(const std::map<std::string, double>& sample);
  // Sum over the series of metric `name` (any labels) of last − first; nullopt without one.
  std::optional<double> counter_delta(std::string_view name) const;
  // The first of kServerTokenCounters present: its delta over the run (nullopt: none scraped).
  std::optional<double> server_output_tokens() const;
  // kEnergyCounterMj's delta over the run, in joules (nullopt: none scraped).
  std::optional<double> energy_joules() const;
  bool operator==(const TargetMetrics&) const = default;
};

}  // namespace llmload
