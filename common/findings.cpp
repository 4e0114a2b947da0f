#include "common/findings.h"

#include <algorithm>
#include <cmath>

#include "common/number_format.h"

namespace llmload {
namespace {

using nlohmann::json;

double share(int64_t part, int64_t whole) {
  return whole > 0 ? double(part) / double(whole) : 0.0;
}

std::string percent(double fraction) {
  return format_number("%.1f%%", fraction * 100.0);
}

void client_saturated(const RunResult& r, std::vector<Finding>& out) {
  const ClientHealth& c = r.run.client;
  if (!c.saturated) return;
  out.push_back({"client_saturated", "warning",
                 format_number("the load generator was saturated (event-loop lag p99 %.1f ms, ",
                               c.loop_lag_ms_p99) +
                     format_number("CPU busy %.2f): its latencies partly measure itself", c.cpu_busy),
                 json{{"loop_lag_ms_p99", c.loop_lag_ms_p99},
                      {"cpu_busy", c.cpu_busy},
                      {"steal", c.steal},
                      {"workers", r.run.workers.size()}},
                 "add workers (machines) or event loops (--threads) until client.saturated is "
                 "false; treat these latencies as an upper bound"});
}

// The request rate of the first interval with failures, when the intervals are known.
std::optional<double> first_failing_rate(const RunResult& r) {
  for (const IntervalRow& row : r.intervals)
    if (row.failed > 0) return row.requests_per_s;
  return std::nullopt;
}

void rate_limited(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  const int64_t n = c.errors[static_cast<std::size_t>(ErrorKind::kHttp429)];
  if (n <= 0) return;
  json evidence{{"http_429", n}, {"share_of_requests", share(n, c.requests)}};
  std::string message = "the server rate-limited " + std::to_string(n) + " request(s) (" +
                        percent(share(n, c.requests)) + ", HTTP 429)";
  // Only when 429s are most failures does the first failing interval say where they began.
  if (auto rate = first_failing_rate(r); rate && n * 2 > c.failed) {
    evidence["from_requests_per_s"] = *rate;
    message += format_number(", from about %.1f req/s", *rate);
  }
  out.push_back({"rate_limited", "warning", message, std::move(evidence),
                 "lower the load below that rate or raise the server's limit: past it the "
                 "capacity measured is the rate limiter's, not the model server's"});
}

void errors_dominated(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  if (c.failed <= 0) return;
  std::size_t top = 0;
  for (std::size_t k = 1; k < c.errors.size(); ++k)
    if (c.errors[k] > c.errors[top]) top = k;
  const int64_t n = c.errors[top];
  if (n * 2 <= c.failed) return;  // no kind is most of the failures
  const auto kind = static_cast<ErrorKind>(top);
  const std::vector<std::string>& samples = r.total.error_samples(kind);
  json evidence{{"kind", name(kind)},
                {"count", n},
                {"share_of_failures", share(n, c.failed)},
                {"failed", c.failed},
                {"share_of_requests", share(c.failed, c.requests)}};
  if (!samples.empty()) evidence["sample"] = samples.front();
  out.push_back({"errors_dominated", share(c.failed, c.requests) > 0.05 ? "warning" : "info",
                 std::string(name(kind)) + " is " + percent(share(n, c.failed)) + " of the " +
                     std::to_string(c.failed) + " failed request(s)",
                 std::move(evidence),
                 "look at this kind first (summary.json errors." + std::string(name(kind)) +
                     ".samples; requests.csv has each one)"});
}

void tokens_counted(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  if (c.tokens_counted <= 0) return;
  out.push_back({"tokens_counted", "info",
                 std::to_string(c.tokens_counted) +
                     " request(s) had their output tokens counted from stream chunks: the server "
                     "sent no usage, so token counts and tokens/s are llmload's, not the "
                     "server's tokenizer's",
                 json{{"tokens_counted", c.tokens_counted},
                      {"tokens_from_usage", c.tokens_from_usage}},
                 "ask for usage (OpenAI-compatible servers: target.stream_options.include_usage, "
                 "on by default; some servers ignore it)"});
}

void warmup_short(const RunResult& r, std::vector<Finding>& out) {
  std::vector<double> rest;
  std::optional<double> first;
  for (const IntervalRow& row : r.intervals) {
    if (!row.ttft_p50_ms) continue;
    if (!first)
      first = *row.ttft_p50_ms;
    else
      rest.push_back(*row.ttft_p50_ms);
  }
  if (!first || rest.size() < 2) return;
  std::nth_element(rest.begin(), rest.begin() + long(rest.size() / 2), rest.end());
  const double median = rest[rest.size() / 2];
  // Far above: three times the rest's median and at least 50 ms more (noise on fast servers).
  if (!(*first > 3 * median && *first - median >= 50)) return;
  out.push_back({"warmup_short", "info",
                 format_number("the first interval's TTFT p50 (%.0f ms) is ", *first) +
                     format_number("%.1f× the rest's median (", *first / median) +
                     format_number("%.0f ms): the run began on a cold server", median),
                 json{{"first_interval_ttft_p50_ms", *first},
                      {"rest_median_ttft_p50_ms", median},
                      {"intervals", rest.size() + 1}},
                 "set load.warmup to cover the cold start, so it is not measured"});
}

void dropped_arrivals(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  if (c.dropped <= 0) return;
  const double ratio = share(c.dropped, c.dropped + c.requests);
  out.push_back({"dropped_arrivals", "warning",
                 std::to_string(c.dropped) + " arrival(s) (" + percent(ratio) +
                     ") were not sent: max_in_flight was reached, so the load offered was lower "
                     "than the rate asked",
                 json{{"dropped", c.dropped}, {"dropped_ratio", ratio}},
                 "raise load.max_in_flight (or add workers), or lower the rate"});
}

}  // namespace

std::vector<Finding> find_findings(const RunResult& r) {
  std::vector<Finding> out;
  client_saturated(r, out);
  rate_limited(r, out);
  errors_dominated(r, out);
  tokens_counted(r, out);
  warmup_short(r, out);
  dropped_arrivals(r, out);
  return out;
}

}  // namespace llmload
