// The canonical in-memory result of a run. Every output format (summary.json, summary.csv,
// timeseries.csv, the report) is a pure function of a RunResult; merge/compare/report read runs
// back into one (results_json.h: read_summary). Field meanings and units: docs/results.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/group_stats.h"
#include "common/hdr_histogram.h"
#include "common/metrics.h"
#include "common/rating.h"
#include "common/target_series.h"

namespace llmload {

inline constexpr std::string_view kSummarySchema = "llmload.summary/1";

enum class RunStatus : uint8_t {
  kCompleted,  // ran to its end (assertions may still have failed: exit 3)
  kAborted,    // a signal or an abort-on-fail assertion stopped it (exit 4)
  kPartial,    // workers lost, or not one request succeeded (exit 5)
  kFailed,     // internal error or invalid configuration (exit 1 or 2)
};
std::string_view name(RunStatus s);  // "completed", "aborted", "partial", "failed"
std::optional<RunStatus> parse_run_status(std::string_view s);

enum class WorkerStatus : uint8_t {
  kOk,    // attached until the end
  kLost,  // went silent (3 s) or disconnected during the run
};
std::string_view name(WorkerStatus s);  // "ok", "lost"
std::optional<WorkerStatus> parse_worker_status(std::string_view s);

// One worker's own health over the run (docs/metrics.md "Client health"). Local workers share
// the process: their peak_rss_bytes is the process's.
struct WorkerHealth {
  int64_t peak_rss_bytes = 0;       // the worker process's peak resident set, bytes (0: unknown)
  double cpu_busy = 0.0;            // its CPU busy share over the run [0, 1]
  double steal = 0.0;               // the host's stolen CPU share over the run [0, 1]
  double loop_lag_ms_p99 = 0.0;     // p99 of its loops' lag samples, ms
  double reads_per_token = 0.0;     // token reads / output tokens (0 without output tokens)
  std::string timestamps = "none";  // ClientTiming::timestamps() of its loops
  double timing_uncertain_share = 0.0;  // ClientTiming::uncertain_share() of its loops
  bool operator==(const WorkerHealth&) const = default;
};
// The figures from what a worker reported: its timing, its output-token total, its CPU shares
// and the largest peak RSS it sent.
WorkerHealth make_worker_health(const ClientTiming& timing, int64_t output_tokens, double cpu_busy,
                                double steal, int64_t peak_rss_bytes);

struct WorkerInfo {
  std::string id;
  std::string host;
  int64_t threads = 0;
  WorkerStatus status = WorkerStatus::kOk;
  Counters totals;  // what this worker measured (summed over its groups)
  WorkerHealth health;
  bool operator==(const WorkerInfo&) const = default;
};

// The load generator's own health and how sure its timing is (docs/metrics.md "Client
// health"): a saturated client measures itself, not the target.
inline constexpr double kSaturatedLoopLagMs = 10.0;  // loop lag p99 above this: saturated
inline constexpr double kSaturatedCpuBusy = 0.9;     // a worker's CPU busy above this: saturated
struct ClientHealth {
  bool saturated = false;        // loop_lag_ms_p99 > 10 ms or a worker's cpu_busy > 0.9
  double loop_lag_ms_p99 = 0.0;  // p99 of every event-loop lag sample of the run, ms
  double cpu_busy = 0.0;         // the busiest worker's CPU busy share [0, 1]
  double steal = 0.0;            // fraction [0, 1] of CPU time stolen by the hypervisor
  ClientTiming timing;           // the raw counts and histograms the rest derives from
  int64_t peak_rss_bytes = 0;    // the largest worker's peak resident set, bytes (0: unknown)

  // Sets loop_lag_ms_p99 from timing.loop_lag_us (kept when it holds no sample) and saturated
  // from it and cpu_busy. Returns the conditions that fired, "" when none: "loop lag p99 12.3 ms
  // > 10 ms", "CPU busy 0.97 > 0.9", or both joined by " and ".
  std::string judge();
  // timing.uncertain_window_us's p99 in ms (0 when empty).
  double uncertain_window_ms_p99() const;
  bool operator==(const ClientHealth&) const = default;
};

// One input of a merged result (`llmload merge`): which file it was and what it held.
struct MergeSource {
  std::string source;  // the summary.json path it was read from
  std::string id;      // its run.id
  std::string started_at;
  double duration_s = 0;
  RunStatus status = RunStatus::kCompleted;
  int64_t requests = 0;  // its totals.requests
  bool operator==(const MergeSource&) const = default;
};

struct RunInfo {
  std::string id;
  RunStatus status = RunStatus::kCompleted;
  int64_t exit_code = 0;
  std::string started_at;  // ISO-8601 UTC, "2026-11-23T18:52:50.123Z" (format_iso8601_utc)
  double duration_s = 0;   // measured window (warmup excluded): the denominator of every rate
  std::string version;
  std::string command;  // the command line, secrets already redacted by the caller
  nlohmann::json scenario = nlohmann::json::object();  // resolved scenario, redacted
  int64_t seed = 0;
  std::string host;       // host the coordinator ran on
  bool insecure = false;  // TLS verification was off (a warning says so too)
  std::vector<WorkerInfo> workers;
  ClientHealth client;
  std::vector<std::string> warnings;
  // The tiers groups are rated with (groups[].rating): the scenario's `rating:` or the defaults.
  std::vector<RatingTier> rating_tiers = default_rating_tiers();
  // Provenance: the inputs of a merged result, in merge order (run.merged_from, written only
  // when not empty); empty for a run.
  std::vector<MergeSource> merged_from;
  bool operator==(const RunInfo&) const = default;
};

// A per-model price, USD per million tokens.
struct ModelPrice {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
};
using PriceTable = std::map<std::string, ModelPrice>;  // by model name (the "model" label)

struct GroupResult {
  GroupStats stats;                // labels inside
  std::optional<double> cost_usd;  // nullopt: no price known for this group's model
  bool operator==(const GroupResult&) const = default;
};

struct AssertionResult {
  std::string expr;             // as the user wrote it
  std::optional<double> value;  // the evaluated left-hand side; nullopt if not evaluable
  bool passed = false;
  bool operator==(const AssertionResult&) const = default;
};

// One timeseries.csv row: what the whole run did in one reporting interval.
struct IntervalRow {
  double elapsed_s = 0;   // end of the interval, seconds since the measured window began
  double interval_s = 0;  // length of the interval, seconds
  int64_t requests = 0;   // finished in the interval
  int64_t ok = 0;
  int64_t failed = 0;
  int64_t in_flight = 0;              // at the end of the interval, all workers
  double requests_per_s = 0;          // requests / interval_s
  double output_tokens_per_s = 0;     // output tokens of requests finished / interval_s
  std::optional<double> ttft_p50_ms;  // nullopt: no ttft recorded in the interval
  std::optional<double> ttft_p99_ms;
  int64_t errors = 0;  // == failed (kept as its own column for readers)
  int64_t client_cancelled = 0;  // closed on purpose by the scenario's cancel: (requests =
                                 // ok + failed + client_cancelled)
  // The target's /metrics as scraped in the interval, by series name (empty: no scrape).
  std::map<std::string, double> target;
  bool operator==(const IntervalRow&) const = default;
};
// Builds the row from the interval's merged total.
IntervalRow make_interval_row(const GroupStats& interval_total, double elapsed_s, double interval_s,
                              int64_t in_flight);

// One finding (common/findings.h): a rule that fired on the result.
struct Finding {
  std::string rule;      // "client_saturated", "rate_limited", ...
  std::string severity;  // "warning" or "info"
  std::string message;   // what the numbers say, one sentence
  nlohmann::json evidence = nlohmann::json::object();  // the numbers that triggered it
  std::string advice;                                  // what to do about it
  bool operator==(const Finding&) const = default;
};

struct RunResult {
  RunInfo run;
  GroupStats total;                 // everything, merged (labels empty)
  std::vector<GroupResult> groups;  // one per label set, in output order
  std::optional<double> cost_usd;   // sum over groups with a price; nullopt if none had one
  std::vector<AssertionResult> assertions;
  std::vector<IntervalRow> intervals;  // for timeseries.csv; not stored in summary.json
  std::vector<Finding> findings;       // summary.json `findings` (common/findings.h)
  TargetMetrics target;                // the target's /metrics over the run (empty: not scraped)

  // Derived totals, over run.duration_s (0 when the duration is 0).
  double requests_per_s() const;
  double output_tokens_per_s() const;
  double goodput_per_s() const;
  bool operator==(const RunResult&) const = default;
};

// Fills groups[i].cost_usd and cost_usd from `prices` (by the "model" label).
void apply_prices(RunResult& result, const PriceTable& prices);
// Sets total to the merge of every group (convenient when groups are filled first).
void recompute_total(RunResult& result);

// One metric's statistics as summary.json and summary.csv print them.
struct MetricSummary {
  std::string name;
  std::string_view unit;      // "ms", "tokens", "tokens/s"
  std::string_view hdr_unit;  // "us", "tokens", "tokens/s"
  int64_t count = 0;
  // For times: the histogram's own value / 1000.0, unrounded; otherwise the value itself.
  double min = 0, mean = 0, stddev = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
  int64_t overflow = 0;  // values outside the histogram's range (not in count)
  std::string hdr;       // HdrHistogram::to_base64(): "HISTF..."
};
MetricSummary summarize(const HdrHistogram& h, std::string_view name, const MetricUnits& units,
                        int64_t overflow = 0);
MetricSummary summarize(const HdrHistogram& h, Metric m, int64_t overflow = 0);
// Every metric of `stats` that holds a value (or an overflow), fixed metrics in enum order
// then server.* by name.
std::vector<MetricSummary> summarize_all(const GroupStats& stats);

// "2026-11-23T18:52:50.123Z" from nanoseconds since the Unix epoch.
std::string format_iso8601_utc(int64_t wall_ns);

}  // namespace llmload
