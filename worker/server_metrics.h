// What the server said about its own work, as server.* metrics (docs/metrics.md "Server-reported
// metrics"). Once per finished ok request, never per token: the adapters collect the figures in
// StreamState::server as chunks arrive, and record_server_metrics turns them into the metric
// values below and records them.
//
//   server.*            Ollama (final line)        llama.cpp (`timings`)      OpenAI usage
//   load_ms             load_duration              -                          -
//   prompt_tokens       prompt_eval_count          prompt_n (not cached)      -
//   prompt_eval_ms      prompt_eval_duration       prompt_ms                  -
//   output_tokens       eval_count                 predicted_n                -
//   eval_ms             eval_duration              predicted_ms               -
//   total_ms            total_duration             -                          -
//   cached_tokens       -                          cache_n                    prompt_tokens_details
//                                                                             .cached_tokens
//   prompt_tokens_per_s prompt_tokens / prompt_eval_ms (both reported, the time > 0)
//   eval_tokens_per_s   output_tokens / eval_ms (both reported, the time > 0)
//   wait_ms             client ttft − (load_ms + prompt_eval_ms), floored at 0 (prompt_eval_ms
//                       reported; load_ms counts 0 when absent)
// Only what the server sent is recorded: no field, no value (never an invented zero).
#pragma once

#include <cstdint>
#include <optional>

#include "common/group_stats.h"
#include "common/server_figures.h"
#include "worker/chunk.h"

namespace llmload::worker {

// The request's figures, and the server's own prompt-token count for the prefix-cache rate:
// usage prompt_tokens (which include the cached ones), else prompt_n + cache_n; nullopt when
// unknown or when no cached count was reported.
struct ServerValues {
  ServerFigures figures;
  std::optional<int64_t> cache_prompt_tokens;
};

// ttft_ns: the client's ttft of the request (nullopt: none). usage_prompt_tokens: the prompt
// tokens of the server's usage (-1: none).
ServerValues server_values(const ServerTimings& t, std::optional<int64_t> ttft_ns,
                           int64_t usage_prompt_tokens);

// Records every value into `stats` (server.* histograms), adds the prefix-cache counters when
// the server reported a cached count, and counts a tokens_mismatch (with a sample) when the
// server's output-token count differs from `ours`.
void record_server_metrics(GroupStats& stats, const ServerValues& v, int64_t ours);

}  // namespace llmload::worker
