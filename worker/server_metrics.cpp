#include "worker/server_metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace llmload::worker {

void ServerTimings::update(const ServerTimings& o) {
  auto take = [](auto& mine, const auto& theirs) {
    if (theirs) mine = theirs;
  };
  take(total_duration_ns, o.total_duration_ns);
  take(load_duration_ns, o.load_duration_ns);
  take(prompt_eval_duration_ns, o.prompt_eval_duration_ns);
  take(eval_duration_ns, o.eval_duration_ns);
  take(prompt_eval_count, o.prompt_eval_count);
  take(eval_count, o.eval_count);
  take(prompt_ms, o.prompt_ms);
  take(predicted_ms, o.predicted_ms);
  take(prompt_n, o.prompt_n);
  take(predicted_n, o.predicted_n);
  take(cache_n, o.cache_n);
  take(cached_tokens, o.cached_tokens);
}

namespace {

// Negative figures are not a duration or a count: treated as not reported.
std::optional<int64_t> ns_us(const std::optional<int64_t>& ns) {
  if (!ns || *ns < 0) return std::nullopt;
  return ns_to_us(*ns);
}
std::optional<int64_t> ms_us(const std::optional<double>& ms) {
  if (!ms || !std::isfinite(*ms) || *ms < 0 || *ms > 1e12) return std::nullopt;
  return std::llround(*ms * 1000.0);
}
std::optional<int64_t> count(const std::optional<int64_t>& n) {
  if (!n || *n < 0) return std::nullopt;
  return n;
}
template <class T>
std::optional<int64_t> first(const std::optional<T>& a, const std::optional<T>& b) {
  return a ? a : b;
}
std::optional<int64_t> rounded(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return std::llround(*v);
}

}  // namespace

ServerValues server_values(const ServerTimings& t, std::optional<int64_t> ttft_ns,
                           int64_t usage_prompt_tokens) {
  ServerValues out;
  ServerFigures& v = out.figures;
  v.load_us = ns_us(t.load_duration_ns);
  v.prompt_tokens = first(count(t.prompt_eval_count), count(t.prompt_n));
  v.prompt_eval_us = first(ns_us(t.prompt_eval_duration_ns), ms_us(t.prompt_ms));
  v.output_tokens = first(count(t.eval_count), count(t.predicted_n));
  v.eval_us = first(ns_us(t.eval_duration_ns), ms_us(t.predicted_ms));
  v.total_us = ns_us(t.total_duration_ns);
  v.cached_tokens = first(count(t.cache_n), count(t.cached_tokens));
  if (ttft_ns && v.prompt_eval_us) {
    const int64_t server_us = v.load_us.value_or(0) + *v.prompt_eval_us;
    v.wait_us = std::max<int64_t>(0, ns_to_us(*ttft_ns) - server_us);
  }
  if (v.cached_tokens) {
    // usage.prompt_tokens counts the cached ones; llama.cpp's prompt_n does not.
    if (usage_prompt_tokens >= 0 && !t.cache_n) {
      out.cache_prompt_tokens = usage_prompt_tokens;
    } else if (t.cache_n && count(t.prompt_n)) {
      out.cache_prompt_tokens = *t.prompt_n + *v.cached_tokens;
    }
  }
  return out;
}

void record_server_metrics(GroupStats& stats, const ServerValues& values, int64_t ours) {
  const ServerFigures& v = values.figures;
  const std::optional<int64_t> prompt_per_s = rounded(v.prompt_tokens_per_s());
  const std::optional<int64_t> eval_per_s = rounded(v.eval_tokens_per_s());
  const std::pair<const char*, const std::optional<int64_t>*> named[] = {
      {"server.load_ms", &v.load_us},
      {"server.prompt_tokens", &v.prompt_tokens},
      {"server.prompt_eval_ms", &v.prompt_eval_us},
      {"server.output_tokens", &v.output_tokens},
      {"server.eval_ms", &v.eval_us},
      {"server.total_ms", &v.total_us},
      {"server.cached_tokens", &v.cached_tokens},
      {"server.prompt_tokens_per_s", &prompt_per_s},
      {"server.eval_tokens_per_s", &eval_per_s},
      {"server.wait_ms", &v.wait_us},
  };
  for (const auto& [metric, value] : named) {
    if (*value) stats.record_server(metric, **value);
  }
  const std::optional<int64_t>& prompt = values.cache_prompt_tokens;
  if (v.cached_tokens && prompt && *v.cached_tokens <= *prompt) {
    stats.counters.cached_tokens += *v.cached_tokens;
    stats.counters.cache_prompt_tokens += *prompt;
  }
  if (v.output_tokens && *v.output_tokens != ours) {
    stats.record_tokens_mismatch("server " + std::to_string(*v.output_tokens) + ", ours " +
                                 std::to_string(ours));
  }
}

}  // namespace llmload::worker
