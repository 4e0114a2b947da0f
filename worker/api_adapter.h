// ApiAdapter: the behaviour that differs between the streaming LLM APIs, behind one interface.
// What is data (name, framing, endpoint path, pre-flight probe) lives in the API's descriptor
// row (common/api.h) and the adapter only reads it; the code is one small implementation per
// request-body family in worker/adapters/, which make_adapter() picks from the descriptor.
//
// The engine uses an adapter in two places:
//   1. once per prompt, before load: build_body() gives the request body (kept and reused for
//      every request of that prompt), with endpoint_path() and required_headers();
//   2. per SSE event or NDJSON line: classify(), allocation-free on the hot path, into the one
//      ChunkInfo classification of worker/chunk.h.
// The pre-flight (worker/preflight.h) reads the descriptor's probe, not an adapter.
// Adapters are immutable after construction: one instance can serve every stream of a loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/api.h"
#include "common/expected.h"
#include "worker/chunk.h"

namespace llmload::worker {

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
  // A batch of texts for an API that takes one (openai-embeddings): sent as its `input` array.
  // Empty: `text` (or the messages' contents) is the one input.
  std::span<const std::string_view> inputs;
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
  explicit ApiAdapter(const ApiDescriptor& descriptor) : descriptor_(descriptor) {}
  virtual ~ApiAdapter() = default;

  // The API's row in common/api.h.
  const ApiDescriptor& descriptor() const { return descriptor_; }
  Api api() const { return descriptor_.api; }
  // The API's name as the scenario spells it.
  std::string_view name() const { return descriptor_.name; }
  // Framing of a streamed response (stream == true); a non-streamed one is json_body.
  Framing stream_framing() const { return descriptor_.framing; }
  Framing framing(bool stream = true) const {
    return stream ? stream_framing() : Framing::json_body;
  }
  // Path appended to the target's base URL (see join_url_path).
  std::string_view endpoint_path() const { return descriptor_.endpoint_path; }
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

  ApiAdapter(const ApiAdapter&) = delete;
  ApiAdapter& operator=(const ApiAdapter&) = delete;

 private:
  const ApiDescriptor& descriptor_;
};

// The adapter of an API (its descriptor's body family and chat flag pick the implementation).
std::unique_ptr<ApiAdapter> make_adapter(Api api);
// The adapter for an API name (api_names() in common/api.h). An unknown name is an error that
// lists the known ones.
Expected<std::unique_ptr<ApiAdapter>> make_adapter(std::string_view api_name);

// One prompt's body as the run plan has it (owned strings), for build_request_body.
struct BodyInput {
  std::string text;                                           // plain prompt
  std::vector<std::pair<std::string, std::string>> messages;  // (role, content) chat messages
  std::string model;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  bool include_usage = true;
  bool continuous_usage = false;
  bool ignore_eos = false;
  std::string extra_body_json;  // a JSON object (merge patch) or empty
  bool stream = true;           // false: ask for one JSON body (output.stream: false)
  std::vector<std::string> inputs;  // a batch (openai-embeddings); empty: `text` alone
};

// adapter.build_body() of a request for `input` (streamed unless input.stream is false).
Expected<std::string> build_request_body(const ApiAdapter& adapter, const BodyInput& input);

// Joins a target's base path and an adapter's endpoint path: "" + "/v1/models" ->
// "/v1/models"; "/proxy/" + "/api/chat" -> "/proxy/api/chat"; a base ending in "/v1" is read
// as an OpenAI-style base URL, so "/v1" + "/v1/chat/completions" -> "/v1/chat/completions".
std::string join_url_path(std::string_view base_path, std::string_view endpoint_path);

}  // namespace llmload::worker
