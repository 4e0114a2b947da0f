// What a server reported about one request's work, in the units the server.* metrics record
// (times in whole µs, counts in tokens): docs/metrics.md "Server-reported metrics". Carried by a
// requests.csv row; the worker derives it from the stream (worker/server_metrics.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

namespace llmload {

struct ServerFigures {
  // nullopt: the server did not report it.
  std::optional<int64_t> load_us, prompt_tokens, prompt_eval_us, output_tokens, eval_us, total_us,
      cached_tokens, wait_us;

  // tokens / time, when both are reported and the time is > 0.
  static std::optional<double> per_s(const std::optional<int64_t>& tokens,
                                     const std::optional<int64_t>& us) {
    if (!tokens || !us || *us <= 0) return std::nullopt;
    return double(*tokens) * 1e6 / double(*us);
  }
  std::optional<double> prompt_tokens_per_s() const { return per_s(prompt_tokens, prompt_eval_us); }
  std::optional<double> eval_tokens_per_s() const { return per_s(output_tokens, eval_us); }

  bool empty() const { return *this == ServerFigures{}; }
  bool operator==(const ServerFigures&) const = default;
};

}  // namespace llmload
