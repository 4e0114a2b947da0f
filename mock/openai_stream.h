// OpenAI chat/completions and completions (SSE) in the shape vLLM and llama.cpp send.
#pragma once

#include "mock/stream_format.h"

namespace llmload::mock {

class OpenAiStream final : public StreamFormat {
 public:
  const char* content_type(bool stream) const override;
  void preamble(const Generation& g, ChunkSink& sink) const override;
  void tokens(const Generation& g, int first, int count, ChunkSink& sink) const override;
  void finish(const Generation& g, ChunkSink& sink) const override;
  void error_event(const Generation& g, ChunkSink& sink) const override;
  void malformed(const Generation& g, int index, ChunkSink& sink) const override;
  void huge_line(const Generation& g, size_t bytes, ChunkSink& sink) const override;
  void body(const Generation& g, OutBuffer& out) const override;
  void error_body(int status, std::string_view message, OutBuffer& out) const override;
};

}  // namespace llmload::mock
