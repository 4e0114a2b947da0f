#include "mock/stream_format.h"

#include "mock/anthropic_stream.h"
#include "mock/embeddings_body.h"
#include "mock/ollama_stream.h"
#include "mock/openai_stream.h"

namespace llmload::mock {

const char* api_name(Api api) {
  switch (api) {
    case Api::kOpenAiChat:
      return "openai-chat";
    case Api::kOpenAiCompletions:
      return "openai-completions";
    case Api::kOllamaChat:
      return "ollama-chat";
    case Api::kOllamaGenerate:
      return "ollama-generate";
    case Api::kAnthropicMessages:
      return "anthropic-messages";
    case Api::kOpenAiEmbeddings:
      return "openai-embeddings";
  }
  return "unknown";
}

const StreamFormat& StreamFormat::for_api(Api api) {
  static const OpenAiStream openai;
  static const OllamaStream ollama;
  static const AnthropicStream anthropic;
  static const EmbeddingsBody embeddings;
  switch (api) {
    case Api::kOpenAiEmbeddings:
      return embeddings;
    case Api::kOllamaChat:
    case Api::kOllamaGenerate:
      return ollama;
    case Api::kAnthropicMessages:
      return anthropic;
    default:
      return openai;
  }
}

void append_json_string(OutBuffer& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push('\\');
      out.push(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push(kHex[u >> 4]);
      out.push(kHex[u & 15]);
    } else {
      out.push(c);
    }
  }
  out.push('"');
}

void append_words(const Generation& g, int first, int count, OutBuffer& out) {
  for (int i = 0; i < count; ++i) out.append(g.word(first + i));
}

void append_openai_error(int status, std::string_view message, OutBuffer& out) {
  out.append("{\"error\":{\"message\":");
  append_json_string(out, message);
  out.append(",\"type\":\"");
  out.append(status == 429   ? "rate_limit_exceeded"
             : status >= 500 ? "server_error"
             : status == 404 ? "not_found_error"
                             : "invalid_request_error");
  out.append("\",\"param\":null,\"code\":");
  out.append_i64(status);
  out.append("}}");
}

}  // namespace llmload::mock
