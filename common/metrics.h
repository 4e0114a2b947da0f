// The metric model: the fixed per-request metrics llmload measures, their units, the histogram
// settings each is recorded with, and the error kinds a request can fail with.
// Every metric is defined for users in docs/metrics.md; the names here are the names in
// summary.json, summary.csv and on the wire.
//
// Units. Times are recorded as whole microseconds (hdr_unit "us") and reported in
// milliseconds (unit "ms", the histogram's value / 1000, unrounded). Token counts ("tokens")
// and rates ("tokens/s") are recorded and reported in whole units.
//
// Server-reported metrics (Ollama durations and counts, llama.cpp `timings`) are named
// dynamically, always "server." followed by [a-z0-9_]+ (at most kMaxServerMetricNameLength
// bytes in all). The suffix gives the unit: "_ms" → a time (µs histogram, reported in ms),
// "_per_s" → tokens/s, anything else → tokens (a count). E.g. server.prompt_eval_ms,
// server.eval_count, server.predicted_per_s.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/hdr_histogram.h"

namespace llmload {

// The fixed metrics. Values are recorded in the metric's hdr_unit.
enum class Metric : uint8_t {
  kTtft,          // request start → first chunk carrying generated text (content or reasoning)
  kTtfo,          // request start → first content token (after any reasoning)
  kTtfb,          // request start → first response byte
  kItl,           // each gap between token-bearing chunks (k-token chunk: gap + k−1 zero gaps)
  kTpot,          // (e2e − ttft) / (output_tokens − 1), per request with >= 2 tokens
  kE2e,           // request start → last byte of the response
  kConnect,       // TCP connect (new connections only)
  kTls,           // TLS handshake (new TLS connections only)
  kQueue,         // rate mode: intended start → actual start (the write)
  kTtftSent,      // rate mode: the write → first text chunk
  kE2eSent,       // rate mode: the write → last byte
  kDecodeTps,     // (output_tokens − 1) / (e2e − ttft), tokens/s, per request with >= 2 tokens
  kOutputTokens,  // output tokens of the request (server usage, else counted chunks)
  kInputTokens,   // input (prompt) tokens of the request, when known
  kWait,          // the request's start by its scheduler → its first byte written (the wait for a
                  // connection: pool queue, connect, TLS); never part of ttfb, ttft or e2e
};
inline constexpr std::size_t kMetricCount = 15;

// Iteration helper: every fixed metric in enum order.
inline constexpr std::array<Metric, kMetricCount> kAllMetrics = {
    Metric::kTtft,         Metric::kTtfo,        Metric::kTtfb,    Metric::kItl,
    Metric::kTpot,         Metric::kE2e,         Metric::kConnect, Metric::kTls,
    Metric::kQueue,        Metric::kTtftSent,    Metric::kE2eSent, Metric::kDecodeTps,
    Metric::kOutputTokens, Metric::kInputTokens, Metric::kWait};

// "ttft", "ttfo", ..., "ttft_sent", "e2e_sent", "decode_tps", "output_tokens", "input_tokens",
// "wait".
std::string_view name(Metric m);
// "ms" for times, "tokens", "tokens/s".
std::string_view unit(Metric m);
// "us" for times, otherwise the same as unit().
std::string_view hdr_unit(Metric m);
bool is_time(Metric m);
std::optional<Metric> parse_metric(std::string_view name);

// What a metric's numbers mean, for fixed and server.* metrics alike.
struct MetricUnits {
  std::string_view unit;      // "ms", "tokens", "tokens/s"
  std::string_view hdr_unit;  // "us", "tokens", "tokens/s"
  bool is_time = false;       // histogram in µs, statistics reported / 1000
};
MetricUnits units_of(Metric m);

inline constexpr std::size_t kMaxServerMetricNameLength = 64;
// "server." + [a-z0-9_]+, at most kMaxServerMetricNameLength bytes.
bool is_server_metric_name(std::string_view name);
// Units of a fixed metric or a valid server.* name; nullopt for anything else.
std::optional<MetricUnits> units_of_name(std::string_view name);

// Histogram settings. Times: HdrHistogram::for_micros() (1 µs .. 1 h, 3 digits).
// Tokens and tokens/s: 1 .. 10,000,000, 3 digits.
inline constexpr int64_t kCountHistogramHighest = 10'000'000;
inline constexpr int kHistogramDigits = 3;
HdrHistogram make_histogram(Metric m);
HdrHistogram make_histogram(const MetricUnits& units);
// True when h has exactly the settings make_histogram(units) gives.
bool has_expected_settings(const HdrHistogram& h, const MetricUnits& units);

// Nanoseconds → whole microseconds, rounded to nearest (what time histograms record).
inline int64_t ns_to_us(int64_t ns) {
  return ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
}

// Why a request failed. Each failed request has exactly one kind (the first that happened).
enum class ErrorKind : uint8_t {
  kConnectRefused,  // TCP connect refused (RST to SYN) or unreachable
  kConnectTimeout,  // TCP connect not established within the connect timeout
  kDns,             // the host name did not resolve
  kTls,             // TLS handshake or certificate verification failed
  kHttp4xx,         // HTTP status 400..499 other than 429
  kHttp429,         // HTTP 429 Too Many Requests (rate limited)
  kHttp5xx,         // HTTP status 500..599
  kTtftTimeout,     // no text-bearing chunk within the ttft timeout
  kIdleTimeout,     // no data between two chunks within the idle timeout
  kTotalTimeout,    // the whole request exceeded the total timeout
  kReset,           // the connection was reset or closed mid-response (not retried)
  kTruncated,       // the stream ended without its terminator ([DONE], done:true, message_stop)
  kProtocol,        // malformed HTTP, SSE or JSON, or an SSE event / NDJSON line over its limit
  kServerError,     // an error payload inside the stream
  kCancelled,       // cut off at the end of the run by the grace period, or by an abort
};
inline constexpr std::size_t kErrorKindCount = 15;

inline constexpr std::array<ErrorKind, kErrorKindCount> kAllErrorKinds = {
    ErrorKind::kConnectRefused,
    ErrorKind::kConnectTimeout,
    ErrorKind::kDns,
    ErrorKind::kTls,
    ErrorKind::kHttp4xx,
    ErrorKind::kHttp429,
    ErrorKind::kHttp5xx,
    ErrorKind::kTtftTimeout,
    ErrorKind::kIdleTimeout,
    ErrorKind::kTotalTimeout,
    ErrorKind::kReset,
    ErrorKind::kTruncated,
    ErrorKind::kProtocol,
    ErrorKind::kServerError,
    ErrorKind::kCancelled};

// "connect_refused", "connect_timeout", "dns", "tls", "http_4xx", "http_429", "http_5xx",
// "ttft_timeout", "idle_timeout", "total_timeout", "reset", "truncated", "protocol",
// "server_error", "cancelled".
std::string_view name(ErrorKind k);
std::optional<ErrorKind> parse_error_kind(std::string_view name);

}  // namespace llmload
