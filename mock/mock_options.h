// Every behaviour setting of the mock LLM server (docs/mock.md). Defaults give a well-behaved
// fast server: 50 ms to the first token, 10 ms between tokens, 64 tokens, no faults, no limit.
// Most settings can be overridden per request with `x-mock-*` headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mock/distributions.h"
#include "mock/faults.h"

namespace llmload::mock {

// Where llama.cpp-style and vLLM-style OpenAI streams differ on usage.
enum class UsageMode {
  kChunk,  // a separate chunk with empty `choices` when stream_options.include_usage (vLLM, OpenAI)
  kFinal,  // usage (and llama.cpp-style `timings`) on the final chunk that carries finish_reason
  kNone,   // no usage at all, in any API's stream or body (a server that never counts: clients
           // fall back to their own count)
};

// What happens to a request that arrives when `max_streams` are already running.
enum class OverCapacity {
  kQueue,      // waits (FIFO) for a slot; its TTFT grows with load, like a saturated GPU server
  kReject429,  // refused at once: 429 with Retry-After
  kReject503,  // refused at once: 503
};

struct MockOptions {
  // --- listening ---
  std::string host = "127.0.0.1";  // a literal IPv4 or IPv6 address
  uint16_t port = 0;               // 0: an ephemeral port (read it back with MockServer::port())
  int threads = 1;                 // event loops; > 1 binds each with SO_REUSEPORT
  int backlog = 0;                 // listen backlog; 0: the system maximum (somaxconn, >= 4096)
  bool raise_fd_limit = true;      // raise RLIMIT_NOFILE to its hard limit at start

  // --- TLS ---
  bool tls = false;
  std::string cert_file;      // PEM certificate (with key_file); both empty: self-signed at start
  std::string key_file;       // PEM private key
  std::string cert_out_file;  // where a generated self-signed certificate is written (PEM);
                              // empty: $TMPDIR/llmload-mock-<pid>-cert.pem

  // --- timing (all nanoseconds, CLOCK_MONOTONIC) ---
  int64_t ttft_ns = 50'000'000;     // request fully read (or slot acquired) -> first token
  int64_t itl_ns = 10'000'000;      // gap between tokens; a chunk of k tokens waits k gaps
  int64_t prompt_ns_per_token = 0;  // prompt processing added to TTFT, per prompt token
  int tokens_per_chunk = 1;         // tokens per streamed event (the last chunk may hold fewer)
  int reasoning_tokens = 0;         // reasoning_content deltas before content (OpenAI chat)
  int64_t load_ns = 0;              // model load before the first token (Ollama load_duration)
  // A cold server: the model loads when the first generation request arrives and takes this
  // long; every request arriving before it is loaded waits for it (its load_duration grows by
  // the wait). 0: always loaded.
  int64_t cold_start_ns = 0;

  // --- server-reported prefix cache ---
  // Share of the prompt tokens reported as served from the prefix cache (llama.cpp cache_n,
  // OpenAI usage.prompt_tokens_details.cached_tokens); < 0: no cached count in usage.
  double cached_share = -1;

  // --- output ---
  TokenDistribution tokens = TokenDistribution::fixed(64);  // when the request names no limit
  uint64_t seed = 1;           // token text and every random choice derive from it
  std::string model = "mock";  // listed by /v1/models and /api/tags (any name is accepted)
  std::vector<std::string> more_models;  // also listed (the built-in mock: the scenario's)
  bool role_chunk = true;                // OpenAI chat: a role-only first chunk, as vLLM sends
  UsageMode usage_mode = UsageMode::kChunk;

  // --- limits and errors ---
  size_t max_body_bytes = 1 << 20;     // a larger request body gets 413
  size_t max_header_bytes = 64 << 10;  // request line + headers beyond this get 431
  FaultPlan faults;                    // faults at a rate (per request faults come by header)

  // --- capacity ---
  int max_streams = 0;  // concurrent requests being generated; 0: unlimited
  OverCapacity over_capacity = OverCapacity::kQueue;
  int max_queue = 100'000;  // queued beyond this are refused with 503
  int retry_after_s = 1;    // Retry-After on 429
  // Contention past a knee (a server whose throughput falls under load): a request that starts
  // generating while more than `contention_streams` streams generate on its loop (itself
  // included) gets `contention_itl_ns` more per-token gap for each stream beyond them, for its
  // whole response. 0 ns: off. Throughput falls past the knee when contention_streams ×
  // contention_itl_ns > itl_ns.
  int contention_streams = 0;
  int64_t contention_itl_ns = 0;

  // --- ground truth ---
  std::string truth_file;  // JSONL, one line per request (docs/mock.md); empty: none
  bool truth_text = false;  // each truth line also holds the request body and the answer text

  // --- /metrics ---
  // Prometheus text appended to the mock's own llama.cpp-style /metrics (a DCGM exporter's page,
  // say). Pages in it are separated by a line `# llmload-mock: next page`: the n-th GET of
  // /metrics gets the n-th page, the last one from then on. Empty: none.
  std::string metrics_extra_file;
};

}  // namespace llmload::mock
