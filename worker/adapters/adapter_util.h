// Helpers shared by the API adapters: request-body assembly (once per prompt) and the common
// steps of classification (token attribution, usage bookkeeping, error messages).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "worker/api_adapter.h"
#include "worker/json_scan.h"

namespace llmload::worker::adapters {

// One factory per body family (each in its own file), given the API's row of common/api.h: the
// row's `chat` picks the chat or the text form of the family.
std::unique_ptr<ApiAdapter> make_openai(const ApiDescriptor& descriptor);
std::unique_ptr<ApiAdapter> make_ollama(const ApiDescriptor& descriptor);
std::unique_ptr<ApiAdapter> make_anthropic_messages(const ApiDescriptor& descriptor);
std::unique_ptr<ApiAdapter> make_openai_embeddings(const ApiDescriptor& descriptor);

// --- building bodies (not the hot path) ---

// Checks the options every API needs (model). Returns an error naming the API and field.
std::optional<Error> check_common(std::string_view api, const RequestOptions& options);

// The prompt as chat messages: `messages`, or `text` as one user message.
nlohmann::json chat_messages(const PromptView& prompt);

// The prompt as one text: `text`, or the messages' contents joined with "\n\n".
std::string prompt_text(const PromptView& prompt);

// An OpenAI- or Ollama-style body, whole: the common checks, {model, messages} (the adapter's
// row says chat) or {model, prompt}, the family's options, then extra_body.
using AddOptions = void (*)(nlohmann::json& body, const RequestOptions& options);
Expected<std::string> family_body(const ApiAdapter& adapter, const PromptView& prompt,
                                  const RequestOptions& options, AddOptions add_options);

// Applies options.extra_body_json (RFC 7386 merge patch) and serialises the body.
Expected<std::string> finish_body(std::string_view api, nlohmann::json& body,
                                  const RequestOptions& options);

// --- classification (hot path: no allocation) ---

inline std::string_view trim_ws(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Sets out to kind error with a fixed description; returns malformed.
ClassifyStatus malformed(ChunkInfo& out, const char* why);

// Sets out to kind error with the server's message: `msg` is a JSON string (unescaped into
// state.scratch), an object with a "message" member, or anything else (its raw text).
void set_error(const JsonSlice& msg, StreamState& state, ChunkInfo& out);

// Reads an integer member into `dst` when present; false when present but not an integer.
bool read_int(const JsonSlice& v, int64_t& dst);

// OpenAI-style usage object: prompt_tokens and completion_tokens.
bool read_openai_usage(const JsonSlice& usage, ChunkInfo& out);

// llama.cpp's `timings` object.
bool read_llamacpp_timings(const JsonSlice& timings, ChunkInfo& out);

// The last step of every classify: attributes tokens to a token-bearing chunk (k = the rise of
// the reported cumulative completion_tokens over the tokens already attributed, at least 1;
// 1 when this chunk reports no usage), then records usage and final in the state.
void settle(StreamState& state, ChunkInfo& out);

}  // namespace llmload::worker::adapters
