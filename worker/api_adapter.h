// ApiAdapter: everything that differs between the streaming LLM APIs, behind one interface.
// One small implementation per API in worker/adapters/; make_adapter() picks one by name.
//
// The engine uses an adapter in three places:
//   1. once per prompt, before load: build_body() gives the request body (kept and reused for
//      every request of that prompt), with endpoint_path() and required_headers();
//   2. before load: preflight_path() (empty: TCP/TLS connect only);
//   3. per SSE event or NDJSON line: classify(), allocation-free on the hot path, into the one
//      ChunkInfo classification of worker/chunk.h.
// Adapters are immutable after construction: one instance can serve every stream of a loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/expected.h"
#include "worker/chunk.h"

namespace llmload::worker {

// How a response body is framed.
enum class Framing : uint8_t {
  sse,        // text/event-stream: feed an SseParser, classify(event, data) per event
  ndjson,     // one JSON object per line: feed an NdjsonParser, classify("", line) per line
  json_body,  // not streamed: classify("", whole body) once; the body's end is its terminator
};
const char* to_string(Framing f);

struct ChatMessage {
  std::string_view role;     // "system", "user", "assistant"
  std::string_view content;  // plain text
};

// One prompt as the scenario gives it. Views into storage the caller keeps alive during
// build_body().
struct PromptView {
  // Prompt text. Completion APIs (openai-completions, ollama-generate) send it as the prompt;
  // chat APIs send it as one user message when `messages` is empty.
  std::string_view text;
  // Chat messages in order. Completion APIs, given only messages, send their contents joined
  // with "\n\n" as the prompt. anthropic-messages moves system messages to its `system` field.
  std::span<const ChatMessage> messages;
};

struct RequestOptions {
  std::string model;                  // required
  std::optional<int64_t> max_tokens;  // max_tokens / Ollama options.num_predict; required by
                                      // anthropic-messages (build_body fails without it)
  std::optional<double> temperature;  // top level, or Ollama options.temperature
  bool stream = true;                 // false: a plain JSON body (Framing::json_body)
  // OpenAI-style: send stream_options.include_usage (default on; switch off for servers that
  // reject stream_options). Ignored by the other APIs (they always report usage).
  bool include_usage = true;
  // OpenAI-style: also ask for per-chunk usage (vLLM stream_options.continuous_usage_stats),
  // so multi-token chunks are counted exactly.
  bool continuous_usage_stats = false;
  // Ask the server to ignore end-of-sequence (vLLM and llama.cpp `ignore_eos`), so every request
  // generates max_tokens. Ignored by Ollama and Anthropic (no such option).
  bool ignore_eos = false;
  // A JSON object (text) merged into the body last, as an RFC 7386 merge patch: its members are
  // added or replace ours, nested objects merge, and a null removes a field. Empty: nothing.
  std::string extra_body_json;
};

enum class ClassifyStatus : uint8_t {
  ok,         // `out` describes the chunk
  malformed,  // not valid JSON, or not the shape this API sends: protocol error; out.kind is
              // error and out.error_message says what was wrong
};

struct AdapterHeader {
  std::string_view name;
  std::string_view value;
};

class ApiAdapter {
 public:
  virtual ~ApiAdapter() = default;

  // The API's name as the scenario spells it ("openai-chat", ...).
  virtual std::string_view name() const = 0;
  // Framing of a streamed response (stream == true); a non-streamed one is json_body.
  virtual Framing stream_framing() const = 0;
  Framing framing(bool stream = true) const {
    return stream ? stream_framing() : Framing::json_body;
  }
  // Path appended to the target's base URL (see join_url_path).
  virtual std::string_view endpoint_path() const = 0;
  // GET path for the pre-flight check (no tokens generated); empty: TCP/TLS connect only.
  virtual std::string_view preflight_path() const = 0;
  // Headers every request must carry besides Host, Content-Length and the scenario's own
  // (content-type, and anthropic-version for Anthropic).
  virtual std::span<const AdapterHeader> required_headers() const = 0;

  // The JSON request body for one prompt (called once per prompt, not on the hot path). Errors
  // name the field at fault (missing model, anthropic max_tokens, bad extra_body_json).
  virtual Expected<std::string> build_body(const PromptView& prompt,
                                           const RequestOptions& options) const = 0;

  // Classifies one SSE event (event name and data) or NDJSON line (event_name empty) or a whole
  // non-streamed body. Resets `out` first, updates `state` (token attribution, usage, final),
  // and never allocates except for the rare error message that needs unescaping.
  virtual ClassifyStatus classify(std::string_view event_name, std::string_view data,
                                  StreamState& state, ChunkInfo& out) const = 0;
};

// The adapter for an API name: openai-chat, openai-completions, ollama-chat, ollama-generate,
// anthropic-messages. An unknown name is an error that lists the known ones.
Expected<std::unique_ptr<ApiAdapter>> make_adapter(std::string_view api_name);

// The API names make_adapter knows, in the order above.
std::span<const std::string_view> api_names();

// Joins a target's base path and an adapter's endpoint path: "" + "/v1/models" ->
// "/v1/models"; "/proxy/" + "/api/chat" -> "/proxy/api/chat"; a base ending in "/v1" is read
// as an OpenAI-style base URL, so "/v1" + "/v1/chat/completions" -> "/v1/chat/completions".
std::string join_url_path(std::string_view base_path, std::string_view endpoint_path);

}  // namespace llmload::worker
