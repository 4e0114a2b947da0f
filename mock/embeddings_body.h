// OpenAI-style embeddings (POST /v1/embeddings) as vLLM and llama.cpp answer them: never
// streamed, one JSON body {"object": "list", "data": [{"object": "embedding", "index": i,
// "embedding": [...]}, ...], "model", "usage": {"prompt_tokens", "total_tokens"}}, one entry per
// input. The vectors are short (kDims values) and made from the request's seed, not meaningful.
#pragma once

#include "mock/stream_format.h"

namespace llmload::mock {

class EmbeddingsBody final : public StreamFormat {
 public:
  static constexpr int kDims = 8;
  const char* content_type(bool stream) const override;
  // The streamed events never happen (plan_generation sets stream false); they write nothing.
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
