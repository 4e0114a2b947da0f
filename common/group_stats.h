// GroupStats: the mergeable measurement of one group of requests (one set of labels: target,
// model, scenario tags). A worker loop records into one per group and hands it over every
// interval; the coordinator merges them, exactly, through the histograms.
//
// Recording (record(), counters) is the hot path: no lock, no map lookup for fixed metrics, and
// no allocation once a metric's histogram exists (the first record of a metric creates it;
// prepare() creates them up front). reset() keeps every histogram, so a reused GroupStats never
// allocates again.
//
// Wire form (to_wire / from_wire), carried by REPORT inside MessagePack:
//   { "labels": {k: v},
//     "counters": { "requests", "ok", "failed", "client_cancelled"?, "retries", "input_tokens",
//                   "output_tokens", "tokens_from_usage", "tokens_counted", "goodput", "dropped",
//                   "bytes_received", "errors": {kind: n}, "tokens_tokenized"?,
//                   "tokens_mismatch"?, "cached_tokens"?, "cache_prompt_tokens"?, "inputs"? },
//                                        (non-negative integers; those marked ? 0 when absent)
//     "histograms": { name: { "hdr": binary (compressed V2 encoding; a base64 "HISTF..."
//                                     string is accepted too), "overflow": n } },
//     "samples": { kind: [message, ...] } }   (kind: an error kind, or "tokens_mismatch")
// Only metrics that hold something are sent. from_wire takes hostile input: every field is
// type- and range-checked, counters are bounded (2^50) and must satisfy the Counters
// invariants (requests == ok + failed + client_cancelled, errors sum to failed, goodput <= ok),
// histogram decoding is bounded by WireLimits::max_counts_len, and the decoded settings must be
// the metric's (make_histogram). Errors name the field at fault.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/hdr_histogram.h"
#include "common/metrics.h"

namespace llmload {

// The longest prefix of `s` of at most `max_bytes` that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

// A group's labels: "target", "model", and any scenario tags. Ordered, so equal label sets
// compare equal and print the same.
using Labels = std::map<std::string, std::string>;
// "model=llama,target=http://h:8080" (keys in order, k=v joined by ','): the `group` column.
std::string group_key(const Labels& labels);

// Request counters. Invariants: requests == ok + failed + client_cancelled; sum(errors) == failed;
// goodput <= ok; tokens_from_usage + tokens_counted + tokens_tokenized == ok + failed requests
// with known tokens.
struct Counters {
  int64_t requests = 0;  // measured requests that finished (ok + failed + client_cancelled)
  int64_t ok = 0;        // requests that completed a full, well-formed response
  int64_t failed = 0;    // requests that ended in an error (each of exactly one kind)
  // Requests the client closed on purpose mid-way (scenario `cancel:`): neither ok nor failed.
  // Not the `cancelled` error kind (cut off by the grace at the end of a run).
  int64_t client_cancelled = 0;
  std::array<int64_t, kErrorKindCount> errors{};  // failed, by ErrorKind
  int64_t retries = 0;            // re-sends on a fresh connection after a stale keep-alive one
  int64_t input_tokens = 0;       // sum of input tokens over requests where known
  int64_t output_tokens = 0;      // sum of output tokens over all requests (ok and failed)
  int64_t tokens_from_usage = 0;  // requests whose output_tokens came from server usage
  int64_t tokens_counted = 0;     // requests whose output_tokens were counted chunks
  // Requests whose output_tokens the scenario's tokenizer counted in the streamed text
  // (prompts.tokenizer, no usage: tokens_source `tokenizer`).
  int64_t tokens_tokenized = 0;
  int64_t goodput = 0;            // ok requests that met every per-request SLO
  int64_t dropped = 0;            // rate mode: arrivals not started (max-in-flight cap reached)
  int64_t bytes_received = 0;     // response bytes read (headers and body)
  int64_t inputs = 0;             // embeddings APIs: inputs embedded (the responses' data entries)
  // Server-reported (docs/metrics.md "Server-reported metrics"); optional on the wire.
  int64_t tokens_mismatch = 0;      // ok requests whose server output count differs from ours
  int64_t cached_tokens = 0;        // prompt tokens the server served from its prefix cache
  int64_t cache_prompt_tokens = 0;  // the server's prompt tokens of the requests that reported
                                    // a cached count (the prefix-cache rate's denominator)

  // cached_tokens / cache_prompt_tokens; nullopt when no request reported a cached count.
  std::optional<double> prefix_cache_hit_rate() const;
  void merge(const Counters& other);  // adds every field
  bool operator==(const Counters&) const = default;
};

// Bounds for from_wire on untrusted input.
struct WireLimits {
  int64_t max_counts_len = 1 << 20;     // per decoded histogram (see HdrHistogram::decode)
  std::size_t max_groups = 4096;        // groups per IntervalSnapshot
  std::size_t max_labels = 32;          // labels per group
  std::size_t max_label_bytes = 1024;   // per key and per value
  std::size_t max_server_metrics = 64;  // server.* histograms per group
  // GroupStats::from_wire keeps each histogram as its checked encoding (encoded_histograms())
  // instead of decoding it: for a reader that only merges what it reads (the coordinator), so
  // no decoded copy is allocated and zeroed per metric per report. Same checks, same errors.
  bool keep_encoded = false;
};

class GroupStats {
 public:
  static constexpr std::size_t kMaxSamplesPerKind = 5;
  static constexpr std::size_t kMaxSampleBytes = 512;  // longer messages are cut (UTF-8 safe)

  GroupStats() = default;
  explicit GroupStats(Labels labels) : labels(std::move(labels)) {}

  Labels labels;
  Counters counters;

  // Creates the histograms of these metrics now (so record() never allocates later).
  void prepare(std::initializer_list<Metric> metrics);
  void prepare_all();

  // Adds every count of `h` into the named metric (a fixed name or a server.* name), plus
  // `overflow` to its overflow count. Exact when h has the metric's settings (make_histogram);
  // values outside the metric's range are counted as overflow (h's own overflow_count() is
  // not: pass it as `overflow` if it should count). False for an unknown name.
  // For rebuilding stats from stored histograms (the summary reader, merge tools).
  bool add_histogram(std::string_view metric_name, const HdrHistogram& h, int64_t overflow = 0);

  // Records `value` in the metric's hdr_unit (µs for times: see ns_to_us). A value outside
  // the histogram's range is not recorded: counted in overflow(m), returns false.
  bool record(Metric m, int64_t value, int64_t count = 1);
  bool record_ns(Metric m, int64_t ns) { return record(m, ns_to_us(ns)); }
  // Server-reported metric, `name` a valid server.* name (see metrics.h); false (and nothing
  // recorded) for an invalid name or an out-of-range value (counted in server_overflow).
  // A map lookup: not for the per-token path.
  bool record_server(std::string_view name, int64_t value);

  // Counts one failed request of `kind` (requests, failed, errors[kind]) and keeps `message`
  // as a sample if fewer than kMaxSamplesPerKind are kept for that kind.
  void record_error(ErrorKind kind, std::string_view message);
  void add_error_sample(ErrorKind kind, std::string_view message);
  // Counts one request the client closed on purpose (requests, client_cancelled).
  void record_client_cancelled();
  const std::vector<std::string>& error_samples(ErrorKind kind) const {
    return samples_[static_cast<std::size_t>(kind)];
  }
  // Counts one tokens_mismatch and keeps `message` ("server 12, ours 11") as a sample if fewer
  // than kMaxSamplesPerKind are kept.
  void record_tokens_mismatch(std::string_view message);
  void add_mismatch_sample(std::string_view message);
  const std::vector<std::string>& mismatch_samples() const { return mismatch_samples_; }

  // nullptr until the metric is first recorded or prepared. May be empty (after reset()).
  const HdrHistogram* histogram(Metric m) const {
    const auto& h = fixed_[static_cast<std::size_t>(m)];
    return h ? &*h : nullptr;
  }
  int64_t overflow(Metric m) const { return overflow_[static_cast<std::size_t>(m)]; }
  const std::map<std::string, HdrHistogram, std::less<>>& server_histograms() const {
    return server_;
  }
  int64_t server_overflow(std::string_view name) const;
  // Number of samples recorded in metric m (0 if never created).
  int64_t count(Metric m) const;

  // Adds everything in `other` (counters, histograms, overflow, samples up to the bound;
  // other's encoded histograms straight from their encodings, HdrHistogram::add_encoded).
  // Labels are not touched: the caller merges like with like. Exact: merging is the same as
  // having recorded everything into one GroupStats, in either order (samples aside: they keep
  // the first kMaxSamplesPerKind in merge order).
  void merge(const GroupStats& other);

  // The histograms a from_wire with WireLimits::keep_encoded kept encoded (checked, with the
  // metric's settings), by metric name. Only merge() reads them: histogram(), count(),
  // operator== and to_wire() see the decoded histograms alone, so a GroupStats holding
  // encodings is merged into another before it is looked at (LiveMerge does).
  struct EncodedHistogram {
    std::string name;
    HdrHistogram::Checked hdr;
  };
  const std::vector<EncodedHistogram>& encoded_histograms() const { return encoded_; }
  // Zeroes counters, histograms, overflow and samples; keeps labels and allocated histograms.
  void reset();
  // True when nothing was counted or recorded.
  bool empty() const;

  // Equal labels, counters, samples, overflow, and histograms with equal counts (a histogram
  // that was never created equals an empty one).
  bool operator==(const GroupStats& other) const;

  nlohmann::json to_wire() const;
  // Names the field at fault: "counters.ok: not a non-negative integer",
  // "histograms.ttft: settings 1..1000/2 differ from the expected 1..3600000000/3".
  static Expected<GroupStats> from_wire(const nlohmann::json& j, const WireLimits& limits = {});

 private:
  std::array<std::optional<HdrHistogram>, kMetricCount> fixed_;
  std::array<int64_t, kMetricCount> overflow_{};
  std::map<std::string, HdrHistogram, std::less<>> server_;
  std::map<std::string, int64_t, std::less<>> server_overflow_;
  std::array<std::vector<std::string>, kErrorKindCount> samples_;
  std::vector<std::string> mismatch_samples_;
  std::vector<EncodedHistogram> encoded_;

  HdrHistogram& fixed_histogram(Metric m);
  static void keep_sample(std::vector<std::string>& kept, std::string_view message);
};

// How the client timed what it measured, and how late its loops ran (docs/metrics.md "Client
// health"). Counted per loop per interval and merged exactly like GroupStats.
//   A token read is a socket read that delivered at least one token-bearing chunk. Chunks of one
//   read share its stamp, so a chunk stamped like the previous token chunk is of the same read.
//   A timing value is a ttft or itl value of an ok request (zero gaps of a k-token chunk
//   included); it is uncertain when its read carried more than one token-bearing event (each
//   event's ttft-or-gap value; the zero gaps inside one event are exact). An uncertain read's
//   window is its stamp minus the request's previous read's (the previous token read's, else
//   the first byte's, else the send's): its earlier events arrived somewhere in it.
// Only measured requests count; loop_lag_us holds every lag probe sample of the measured window.
// Wire form: { "token_reads", "token_reads_kernel", "timing_values", "timing_uncertain",
//              "uncertain_window_us": histogram, "loop_lag_us": histogram } (histograms as in
//              GroupStats: { "hdr", "overflow" }).
struct ClientTiming {
  int64_t token_reads = 0;         // reads that delivered >= 1 token-bearing chunk
  int64_t token_reads_kernel = 0;  // ... of which the kernel stamped
  int64_t timing_values = 0;       // ttft and itl values recorded
  int64_t timing_uncertain = 0;    // ... of which came from a read with > 1 token event
  // Holding only the range their values span (HdrHistogram::growing): a coordinator keeps one
  // ClientTiming per worker and decodes one per report, and a worker's loops reset theirs
  // every interval, keeping that range (so they stop growing once it is reached).
  HdrHistogram uncertain_window_us = HdrHistogram::growing_micros();  // one per uncertain read
  HdrHistogram loop_lag_us = HdrHistogram::growing_micros();          // every lag probe sample

  // "kernel" when every token read was kernel-stamped, "clock" when none was, "mixed"
  // otherwise, "none" when there was no token read.
  std::string_view timestamps() const;
  double kernel_share() const;     // token_reads_kernel / token_reads, 0 without reads
  double uncertain_share() const;  // timing_uncertain / timing_values, 0 without values

  void merge(const ClientTiming& other);  // adds every count (exact)
  void reset();                           // zeroes, keeping the histograms' memory
  bool operator==(const ClientTiming& other) const = default;

  nlohmann::json to_wire() const;
  // Errors name the field: "client.timing_uncertain: greater than timing_values".
  static Expected<ClientTiming> from_wire(const nlohmann::json& j, const WireLimits& limits = {});
};

// What a worker sends every interval: one GroupStats per group seen in the interval, plus
// gauges of the worker's own health.
// Wire form: { "start_ns", "end_ns", "groups": [GroupStats wire...], "in_flight",
//              "loop_lag_us_max", "loop_busy_fraction", "client": ClientTiming wire,
//              "cpu_busy"?, "steal"?, "peak_rss_bytes"?, "target"?, "target_failed"?,
//              "target_error"? } (the optional keys: 0 / empty when absent).
struct IntervalSnapshot {
  int64_t start_ns = 0;  // interval start, worker monotonic clock
  int64_t end_ns = 0;    // interval end (>= start_ns)
  std::vector<GroupStats> groups;
  int64_t in_flight = 0;            // requests in flight at end_ns
  int64_t loop_lag_us_max = 0;      // worst event-loop lag seen in the interval, µs
  double loop_busy_fraction = 0.0;  // share of the interval the loops were busy, [0, 1]
  double cpu_busy = 0.0;            // worker process CPU / (interval × min(loops, CPUs)), [0, 1]
  double steal = 0.0;               // share of the host's CPU time stolen in the interval, [0, 1]
  ClientTiming client;              // every loop's, merged
  // Final snapshot only: the measured window's end on this worker (the latest of its loops':
  // the duration limit or stop instant, or the end of the last measured request when the request
  // budget ended it), worker clock; 0 when unknown or nothing was measured.
  int64_t window_end_ns = 0;
  // The first worker only (common/target_series.h): its latest scrape of the target's /metrics
  // since its previous REPORT, by series name (empty: none), and the scrapes that failed since
  // then with the last one's reason.
  std::map<std::string, double> target;
  int64_t target_failed = 0;
  std::string target_error;
  int64_t peak_rss_bytes = 0;  // the worker process's peak resident set so far, bytes (0: unknown)

  // The group with these labels, created if absent.
  GroupStats& group(const Labels& labels);
  // Everything in the snapshot merged into one GroupStats (labels empty).
  GroupStats total() const;

  bool operator==(const IntervalSnapshot& other) const = default;

  nlohmann::json to_wire() const;
  static Expected<IntervalSnapshot> from_wire(const nlohmann::json& j,
                                              const WireLimits& limits = {});
};

}  // namespace llmload
