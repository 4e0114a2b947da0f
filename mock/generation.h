// One generation request as the mock will answer it: what to send (API, model, token counts,
// options) and its planned timing. Built by request_plan, read by the formatters.
#pragma once

#include <algorithm>
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
  kOpenAiEmbeddings,   // POST /v1/embeddings (never streamed)
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
  int inputs = 0;               // embeddings: the texts of the request's `input` (one vector each)
  bool length_limited = false;  // the count came from max_tokens / num_predict: "length"
  bool include_usage = false;   // stream_options.include_usage
  UsageMode usage_mode = UsageMode::kChunk;
  bool role_chunk = true;
  int64_t ttft_ns = 0, itl_ns = 0, prefill_ns = 0, load_ns = 0;
  int cached_tokens = -1;  // prompt tokens reported as cached; -1: none in usage (cache_n 0)
  Fault fault = Fault::kNone;
  int fault_after = 0;  // tokens sent before a mid-stream fault
  const TokenText* text = nullptr;

  int total_tokens() const { return content_tokens + reasoning_tokens; }
  // The planned timing, which the server-reported figures state exactly (docs/mock.md): the
  // first token is due first_token_delay_ns() after generation starts.
  int64_t prompt_eval_ns() const { return ttft_ns + prefill_ns; }
  int64_t first_token_delay_ns() const { return load_ns + prompt_eval_ns(); }
  int64_t eval_ns() const { return int64_t(std::max(total_tokens() - 1, 0)) * itl_ns; }
  int cache_n() const { return std::max(cached_tokens, 0); }
  // Token `index` counts reasoning first, then content.
  std::string_view word(int index) const { return text->word(stream_key, uint64_t(index)); }
};

}  // namespace llmload::mock
