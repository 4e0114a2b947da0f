// One generation request as the mock will answer it: what to send (API, model, token counts,
// options) and the timing it happened at. Built by request_plan, read by the formatters.
#pragma once

#include <cstdint>
#include <string>

#include "mock/faults.h"
#include "mock/mock_options.h"
#include "mock/token_text.h"

namespace llmload::mock {

enum class Api : uint8_t {
  kOpenAiChat,         // POST /v1/chat/completions
  kOpenAiCompletions,  // POST /v1/completions
  kOllamaChat,         // POST /api/chat
  kOllamaGenerate,     // POST /api/generate
  kAnthropicMessages,  // POST /v1/messages
};
const char* api_name(Api api);

struct Generation {
  Api api = Api::kOpenAiChat;
  bool stream = false;
  std::string model_json;    // the request's model name as a JSON string, quotes included
  std::string id;            // x-request-id, also the basis of the body's own id
  uint64_t stream_key = 0;   // selects the token words (TokenText)
  int64_t created_s = 0;     // Unix seconds, for "created"
  std::string created_at;    // RFC 3339, for Ollama's "created_at"
  int content_tokens = 0;    // content tokens to send
  int reasoning_tokens = 0;  // reasoning tokens before them (counted in completion tokens)
  int tokens_per_chunk = 1;
  int prompt_tokens = 0;        // whitespace-separated words of the prompt text
  bool length_limited = false;  // the count came from max_tokens / num_predict: "length"
  bool include_usage = false;   // stream_options.include_usage
  UsageMode usage_mode = UsageMode::kChunk;
  bool role_chunk = true;
  int64_t ttft_ns = 0, itl_ns = 0, prefill_ns = 0;
  Fault fault = Fault::kNone;
  int fault_after = 0;  // tokens sent before a mid-stream fault
  const TokenText* text = nullptr;

  int total_tokens() const { return content_tokens + reasoning_tokens; }
  // Token `index` counts reasoning first, then content.
  std::string_view word(int index) const { return text->word(stream_key, uint64_t(index)); }
};

// When the response happened, for server-reported durations (Ollama, llama.cpp timings).
struct GenTiming {
  int64_t received_ns = 0;     // request fully read
  int64_t started_ns = 0;      // capacity slot acquired
  int64_t first_token_ns = 0;  // first token sent
  int64_t now_ns = 0;          // the final event
};

}  // namespace llmload::mock
