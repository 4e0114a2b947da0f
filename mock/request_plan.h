// Turns a request into what the mock will do: a plain reply (health, model lists, errors) or a
// Generation (API, counts, timing, fault) that a StreamJob plays out. Pure: no I/O, no clock;
// randomness comes from the caller's Rng, so a seed reproduces every decision.
#pragma once

#include <atomic>
#include <string>

#include "mock/generation.h"
#include "mock/http_request.h"
#include "mock/mock_options.h"

namespace llmload::mock {

class MetricsPage;

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string extra_headers;  // complete lines, each ending in \r\n
  std::string body;
};

struct RequestPlan {
  enum class Kind { kReply, kGenerate };
  Kind kind = Kind::kReply;
  Reply reply;     // kReply
  Generation gen;  // kGenerate
};

struct PlanContext {
  const MockOptions& options;
  const TokenText& text;
  Rng& rng;
  std::string id;           // the request's x-request-id
  uint64_t stream_key = 0;  // default token-word selector (x-mock-seed overrides)
  int64_t wall_ns = 0;      // for "created" / "created_at"
  const MetricsPage* metrics = nullptr;  // GET /metrics (null: 404)
  std::atomic<int64_t>* loaded_at = nullptr;  // --cold-start (see MockOptions::cold_start_ns)
};

RequestPlan plan_request(const HttpRequest& req, PlanContext& ctx);

// An error reply in the style of the API that owns `path` (OpenAI, Ollama or Anthropic).
Reply error_reply(std::string_view path, int status, std::string_view message);

// Whitespace-separated words in s (how the mock counts prompt tokens).
int count_words(std::string_view s);

}  // namespace llmload::mock
