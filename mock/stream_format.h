// How one API puts a generation on the wire. One implementation per API (openai_stream.cpp,
// ollama_stream.cpp, anthropic_stream.cpp), written here independently of the worker's
// parsers: the oracle must not share a bug with what it checks. Streamed events go through a
// ChunkSink (one HTTP chunk per event, as llama.cpp and vLLM send them).
#pragma once

#include <string_view>

#include "mock/generation.h"
#include "mock/out_buffer.h"

namespace llmload::mock {

class StreamFormat {
 public:
  virtual ~StreamFormat() = default;
  virtual const char* content_type(bool stream) const = 0;
  // Events sent right after the response headers (a role-only chunk, message_start, ...).
  virtual void preamble(const Generation& g, ChunkSink& sink) const = 0;
  // One event carrying tokens [first, first + count) (reasoning when first < reasoning_tokens;
  // a chunk never mixes the two).
  virtual void tokens(const Generation& g, int first, int count, ChunkSink& sink) const = 0;
  // Everything after the last token: finish reason, usage, the terminator event. Does not end
  // the chunked body.
  virtual void finish(const Generation& g, ChunkSink& sink) const = 0;
  // An error object inside the stream, then whatever ends the stream for this API.
  virtual void error_event(const Generation& g, ChunkSink& sink) const = 0;
  // An event whose JSON is cut short (a content event with its tail missing).
  virtual void malformed(const Generation& g, int index, ChunkSink& sink) const = 0;
  // One event line of about `bytes` bytes (a single content token of that size).
  virtual void huge_line(const Generation& g, size_t bytes, ChunkSink& sink) const = 0;
  // The whole non-streamed JSON body.
  virtual void body(const Generation& g, OutBuffer& out) const = 0;
  // An error JSON body in this API's style.
  virtual void error_body(int status, std::string_view message, OutBuffer& out) const = 0;

  static const StreamFormat& for_api(Api api);
};

// Helpers shared by the formatters.
void append_json_string(OutBuffer& out, std::string_view s);  // quoted and escaped
void append_words(const Generation& g, int first, int count, OutBuffer& out);
// OpenAI-style error JSON: {"error":{"message":...,"type":...,"param":null,"code":...}}.
void append_openai_error(int status, std::string_view message, OutBuffer& out);

}  // namespace llmload::mock
