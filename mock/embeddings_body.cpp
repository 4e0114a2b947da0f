#include "mock/embeddings_body.h"

#include <cstdint>

namespace llmload::mock {

const char* EmbeddingsBody::content_type(bool) const {
  return "application/json";
}

void EmbeddingsBody::preamble(const Generation&, ChunkSink&) const {}
void EmbeddingsBody::tokens(const Generation&, int, int, ChunkSink&) const {}
void EmbeddingsBody::finish(const Generation&, ChunkSink&) const {}
void EmbeddingsBody::error_event(const Generation&, ChunkSink&) const {}
void EmbeddingsBody::malformed(const Generation&, int, ChunkSink&) const {}
void EmbeddingsBody::huge_line(const Generation&, size_t, ChunkSink&) const {}

void EmbeddingsBody::body(const Generation& g, OutBuffer& out) const {
  out.append("{\"object\":\"list\",\"data\":[");
  uint64_t x = g.stream_key * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < g.inputs; ++i) {
    if (i > 0) out.push(',');
    out.append("{\"object\":\"embedding\",\"index\":");
    out.append_i64(i);
    out.append(",\"embedding\":[");
    for (int d = 0; d < kDims; ++d) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64: values in [-1, 1)
      if (d > 0) out.push(',');
      out.append_fixed(double(int64_t(x % 2000) - 1000) / 1000.0, 3);
    }
    out.append("]}");
  }
  out.append("],\"model\":");
  out.append(g.model_json);
  out.append(",\"usage\":{\"prompt_tokens\":");
  out.append_i64(g.prompt_tokens);
  out.append(",\"total_tokens\":");
  out.append_i64(g.prompt_tokens);
  out.append("}}");
}

void EmbeddingsBody::error_body(int status, std::string_view message, OutBuffer& out) const {
  append_openai_error(status, message, out);
}

}  // namespace llmload::mock
