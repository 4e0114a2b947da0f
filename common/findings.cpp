#include "common/findings.h"

#include <algorithm>
#include <cmath>

#include "common/number_format.h"
#include "common/target_series.h"

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

// Says which of our two counts stood in for the server's: the scenario's tokenizer over the
// streamed text (tokens_tokenized), or counted chunks (tokens_counted; with a tokenizer, the
// requests it could not take: text over the cap, or tool-call deltas without text).
void tokens_counted(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  if (c.tokens_counted <= 0 && c.tokens_tokenized <= 0) return;
  std::string message;
  if (c.tokens_tokenized > 0) {
    message = std::to_string(c.tokens_tokenized) +
              " request(s) had their output tokens counted by the scenario's tokenizer "
              "(prompts.tokenizer) over the streamed text: the server sent no usage, so token "
              "counts and tokens/s are exact only if that tokenizer is the model's";
    if (c.tokens_counted > 0)
      message += "; " + std::to_string(c.tokens_counted) +
                 " more were counted from stream chunks (text over the per-request cap, or "
                 "tool-call deltas with no text to tokenize)";
  } else {
    message = std::to_string(c.tokens_counted) +
              " request(s) had their output tokens counted from stream chunks: the server "
              "sent no usage, so token counts and tokens/s are llmload's, not the server's "
              "tokenizer's";
  }
  std::string advice =
      "ask for usage (OpenAI-compatible servers: target.stream_options.include_usage, on by "
      "default; some servers ignore it)";
  if (c.tokens_tokenized <= 0)
    advice += ", or name the model's tokenizer (prompts.tokenizer) to count the streamed text";
  out.push_back({"tokens_counted", "info", std::move(message),
                 json{{"tokens_counted", c.tokens_counted},
                      {"tokens_tokenized", c.tokens_tokenized},
                      {"tokens_from_usage", c.tokens_from_usage}},
                 std::move(advice)});
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

// The target's queue series (waiting requests) that rose during the run: name, first, max.
struct QueueRise {
  std::string series;
  double first = 0, max = 0;
};
std::optional<QueueRise> queue_rise(const TargetMetrics& t) {
  static constexpr std::string_view kQueues[] = {"llamacpp:requests_deferred",
                                                 "vllm:num_requests_waiting", "tgi_queue_size"};
  for (const auto& [name, st] : t.series) {
    const std::string_view metric = series_metric(name);
    for (std::string_view q : kQueues)
      if (metric == q && st.samples >= 2 && st.max > st.first && st.max >= 1)
        return QueueRise{name, st.first, st.max};
  }
  return std::nullopt;
}

void server_queueing(const RunResult& r, std::vector<Finding>& out) {
  const HdrHistogram* ttft = r.total.histogram(Metric::kTtft);
  if (!ttft || ttft->total_count() < 10) return;
  const double p50 = double(ttft->value_at_percentile(50)) / 1000.0;
  const double p99 = double(ttft->value_at_percentile(99)) / 1000.0;
  if (!(p50 > 0 && p99 > 3 * p50)) return;
  json evidence{{"ttft_p50_ms", p50}, {"ttft_p99_ms", p99}, {"ttft_p99_over_p50", p99 / p50}};
  std::string why;
  // The server's own figures: most of the tail TTFT was spent before its work on the request.
  const auto& server = r.total.server_histograms();
  if (auto it = server.find("server.wait_ms"); it != server.end() && it->second.total_count() > 0) {
    const HdrHistogram* wait = &it->second;
    const double w50 = double(wait->value_at_percentile(50)) / 1000.0;
    const double w99 = double(wait->value_at_percentile(99)) / 1000.0;
    if (w99 >= 0.5 * p99) {
      evidence["server_wait_ms_p50"] = w50;
      evidence["server_wait_ms_p99"] = w99;
      why = format_number("server.wait_ms p99 %.0f ms of it", w99);
    }
  }
  // Or the server's queue, scraped from its /metrics, rose.
  if (auto q = queue_rise(r.target)) {
    evidence["queue_series"] = q->series;
    evidence["queue_first"] = q->first;
    evidence["queue_max"] = q->max;
    why += (why.empty() ? "" : "; ") + q->series + format_number(" rose from %.0f", q->first) +
           format_number(" to %.0f", q->max);
  }
  if (why.empty()) return;
  out.push_back({"server_queueing", "warning",
                 format_number("TTFT p99 is %.1f× p50 (", p99 / p50) +
                     format_number("%.0f ms against ", p99) + format_number("%.0f ms", p50) +
                     ") and requests waited before the server worked on them (" + why +
                     "): the server is at capacity",
                 std::move(evidence),
                 "this load is above the server's capacity: lower it, or find the highest load "
                 "that meets the SLO with llmload sweep"});
}

void tokens_mismatch(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  if (c.tokens_mismatch <= 0) return;
  json evidence{{"tokens_mismatch", c.tokens_mismatch},
                {"ok", c.ok},
                {"share_of_ok", share(c.tokens_mismatch, c.ok)}};
  if (!r.total.mismatch_samples().empty()) evidence["sample"] = r.total.mismatch_samples().front();
  out.push_back({"tokens_mismatch", "info",
                 "the server's output-token count differs from ours on " +
                     std::to_string(c.tokens_mismatch) + " request(s) (" +
                     percent(share(c.tokens_mismatch, c.ok)) + " of the ok ones)",
                 std::move(evidence),
                 "compare server_output_tokens with output_tokens in requests.csv; llama.cpp "
                 "counts the end-of-sequence token it does not send (server n, ours n - 1 on "
                 "requests the model ended itself)"});
}

// Whether the scenario asked for prompts no two requests share: a unique prefix per request,
// or synthetic text without a shared prefix.
bool meant_unique(const json& scenario) {
  if (!scenario.is_object() || !scenario.contains("prompts")) return false;
  const json& p = scenario["prompts"];
  if (!p.is_object()) return false;
  if (p.value("unique_prefix", false)) return true;
  return p.value("source", "") == "synthetic" && p.value("shared_prefix_tokens", 0) == 0;
}

void prefix_cache_hits(const RunResult& r, std::vector<Finding>& out) {
  const Counters& c = r.total.counters;
  const std::optional<double> rate = c.prefix_cache_hit_rate();
  if (!rate || *rate <= 0.01 || !meant_unique(r.run.scenario)) return;
  out.push_back({"prefix_cache_hits", "warning",
                 "the server served " + percent(*rate) +
                     " of the prompt tokens from its prefix cache, though the prompts were meant "
                     "to share no prefix: TTFT and throughput are better than a unique workload "
                     "gets",
                 json{{"hit_rate", *rate},
                      {"cached_tokens", c.cached_tokens},
                      {"prompt_tokens", c.cache_prompt_tokens}},
                 "make every request unique (prompts.unique_prefix: true, more prompts, or a "
                 "dataset larger than the run), or plan with these figures as cache-assisted"});
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
  server_queueing(r, out);
  tokens_mismatch(r, out);
  prefix_cache_hits(r, out);
  return out;
}

}  // namespace llmload
