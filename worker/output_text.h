// OutputText: the streamed output text of one request, kept so that the scenario's tokenizer
// (prompts.tokenizer) can count its output tokens at the request's end when the server sends no
// usage (tokens_source `tokenizer`, docs/metrics.md "output_tokens"). Without a tokenizer it
// keeps nothing and costs one branch per chunk.
//
// Per token-bearing chunk (content, reasoning, tool_call) it appends the chunk's text, decoded
// from its JSON string: one append per chunk, never any tokenizing on the hot path. It stops
// keeping, drops the text, and the request falls back to another source, when:
//   usage     the server reported completion tokens: usage wins (tokens_source `usage`);
//   cap       the text passed `cap_bytes` (bounded memory per request): `counted`;
//   no_text   a token-bearing chunk carried no text string (Ollama tool calls, an OpenAI
//             tool-call delta that is not one string, Anthropic's non-streamed content array):
//             the tokenizer could not see all of the output, so `counted`.
// One per request slot, reused: the buffer keeps its capacity across requests (released when a
// request left it above kKeepCapacity, so one long answer does not pin memory for the run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "worker/chunk.h"

namespace llmload {
class Tokenizer;
}

namespace llmload::worker {

class OutputText {
 public:
  static constexpr size_t kDefaultCap = size_t(4) << 20;  // 4 MiB of text per request
  static constexpr size_t kKeepCapacity = size_t(256) << 10;

  enum class Stop : uint8_t {
    kNone,    // still keeping (or never kept: no tokenizer)
    kUsage,   // the server reported usage
    kCap,     // the text passed the cap
    kNoText,  // a token-bearing chunk without a text string
  };

  explicit OutputText(size_t cap_bytes = kDefaultCap) : cap_(cap_bytes) {}

  // A new request; `tokenizer` null: keep nothing (the text of no chunk is looked at).
  void begin(const Tokenizer* tokenizer);
  // A retry starts the response over: the text kept so far is dropped.
  void restart();
  // One classified chunk; `state` is the stream's state after it (its usage so far).
  void on_chunk(const ChunkInfo& chunk, const StreamState& state) {
    if (keeping_) keep(chunk, state);
  }
  // At the request's end: the tokenizer's count of the text, or -1 when it does not count this
  // request (no tokenizer, usage came, or it stopped keeping). Encodes the whole text once.
  int64_t count(const StreamState& state) const;

  bool keeping() const { return keeping_; }
  Stop stop() const { return stop_; }
  const std::string& text() const { return text_; }

 private:
  void keep(const ChunkInfo& chunk, const StreamState& state);
  void drop(Stop why);

  size_t cap_;
  const Tokenizer* tokenizer_ = nullptr;
  bool keeping_ = false;
  Stop stop_ = Stop::kNone;
  std::string text_;
};

}  // namespace llmload::worker
