// OpenAI chat/completions and completions streams, as vLLM and llama.cpp send them:
//   data: {"id":...,"object":"chat.completion.chunk",...,"choices":[{"index":0,"delta":{...},
//          "finish_reason":null}]}\n\n
// then a finish chunk, the usage (own chunk or on the finish chunk) and `data: [DONE]`.
#include "mock/openai_stream.h"

namespace llmload::mock {

namespace {

bool is_chat(const Generation& g) {
  return g.api == Api::kOpenAiChat;
}

void chunk_head(const Generation& g, OutBuffer& e) {
  e.append("data: {\"id\":\"");
  e.append(is_chat(g) ? "chatcmpl-" : "cmpl-");
  e.append(g.id);
  e.append(is_chat(g) ? "\",\"object\":\"chat.completion.chunk\",\"created\":"
                      : "\",\"object\":\"text_completion\",\"created\":");
  e.append_i64(g.created_s);
  e.append(",\"model\":");
  e.append(g.model_json);
  e.append(",\"choices\":[");
}

void append_usage(const Generation& g, OutBuffer& e) {
  e.append("\"usage\":{\"prompt_tokens\":");
  e.append_i64(g.prompt_tokens);
  e.append(",\"completion_tokens\":");
  e.append_i64(g.total_tokens());
  e.append(",\"total_tokens\":");
  e.append_i64(g.prompt_tokens + g.total_tokens());
  if (g.cached_tokens >= 0) {
    e.append(",\"prompt_tokens_details\":{\"cached_tokens\":");
    e.append_i64(g.cached_tokens);
    e.push('}');
  }
  if (g.reasoning_tokens > 0) {
    e.append(",\"completion_tokens_details\":{\"reasoning_tokens\":");
    e.append_i64(g.reasoning_tokens);
    e.push('}');
  }
  e.push('}');
}

// llama.cpp's `timings` object (milliseconds), beside usage in kFinal mode: the planned
// durations (docs/mock.md "Server-reported figures"); prompt_n counts the prompt tokens not
// served from the cache, cache_n those that were.
void append_timings(const Generation& g, OutBuffer& e) {
  double prompt_ms = double(g.prompt_eval_ns()) / 1e6;
  double predicted_ms = double(g.eval_ns()) / 1e6;
  int n = g.total_tokens();
  e.append("\"timings\":{\"cache_n\":");
  e.append_i64(g.cache_n());
  e.append(",\"prompt_n\":");
  e.append_i64(g.prompt_tokens - g.cache_n());
  e.append(",\"prompt_ms\":");
  e.append_fixed(prompt_ms, 3);
  e.append(",\"predicted_n\":");
  e.append_i64(n);
  e.append(",\"predicted_ms\":");
  e.append_fixed(predicted_ms, 3);
  e.append(",\"predicted_per_second\":");
  e.append_fixed(predicted_ms > 0 ? double(n) * 1000.0 / predicted_ms : 0.0, 3);
  e.push('}');
}

const char* finish_reason(const Generation& g) {
  return g.length_limited ? "length" : "stop";
}

}  // namespace

const char* OpenAiStream::content_type(bool stream) const {
  return stream ? "text/event-stream" : "application/json";
}

void OpenAiStream::preamble(const Generation& g, ChunkSink& sink) const {
  if (!is_chat(g) || !g.role_chunk) return;
  OutBuffer& e = sink.begin_event();
  chunk_head(g, e);
  e.append(
      "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
      "\"logprobs\":null,\"finish_reason\":null}]}\n\n");
  sink.end_event();
}

void OpenAiStream::tokens(const Generation& g, int first, int count, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  chunk_head(g, e);
  if (is_chat(g)) {
    e.append(first < g.reasoning_tokens ? "{\"index\":0,\"delta\":{\"reasoning_content\":\""
                                        : "{\"index\":0,\"delta\":{\"content\":\"");
    append_words(g, first, count, e);
    e.append("\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
  } else {
    e.append("{\"index\":0,\"text\":\"");
    append_words(g, first, count, e);
    e.append("\",\"logprobs\":null,\"finish_reason\":null}]}\n\n");
  }
  sink.end_event();
}

void OpenAiStream::finish(const Generation& g, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  chunk_head(g, e);
  e.append(is_chat(g) ? "{\"index\":0,\"delta\":{}," : "{\"index\":0,\"text\":\"\",");
  e.append("\"logprobs\":null,\"finish_reason\":\"");
  e.append(finish_reason(g));
  e.append("\"}]");
  if (g.usage_mode == UsageMode::kFinal) {
    e.push(',');
    append_usage(g, e);
    e.push(',');
    append_timings(g, e);
  }
  e.append("}\n\n");
  sink.end_event();
  if (g.usage_mode == UsageMode::kChunk && g.include_usage) {
    OutBuffer& u = sink.begin_event();
    chunk_head(g, u);
    u.append("],");
    append_usage(g, u);
    u.append("}\n\n");
    sink.end_event();
  }
  sink.begin_event().append("data: [DONE]\n\n");
  sink.end_event();
}

void OpenAiStream::error_event(const Generation&, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  e.append("data: ");
  append_openai_error(500, "mock fault: error inside the stream", e);
  e.append("\n\n");
  sink.end_event();
  sink.begin_event().append("data: [DONE]\n\n");
  sink.end_event();
}

void OpenAiStream::malformed(const Generation& g, int index, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  chunk_head(g, e);
  e.append(is_chat(g) ? "{\"index\":0,\"delta\":{\"content\":\"" : "{\"index\":0,\"text\":\"");
  append_words(g, index, 1, e);
  e.append("\",\"fin\n\n");  // the JSON stops mid-key
  sink.end_event();
}

void OpenAiStream::huge_line(const Generation& g, size_t bytes, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  chunk_head(g, e);
  e.append(is_chat(g) ? "{\"index\":0,\"delta\":{\"content\":\" " : "{\"index\":0,\"text\":\" ");
  e.append_fill('x', bytes);
  e.append("\"},\"finish_reason\":null}]}\n\n");
  sink.end_event();
}

void OpenAiStream::body(const Generation& g, OutBuffer& out) const {
  out.append("{\"id\":\"");
  out.append(is_chat(g) ? "chatcmpl-" : "cmpl-");
  out.append(g.id);
  out.append(is_chat(g) ? "\",\"object\":\"chat.completion\",\"created\":"
                        : "\",\"object\":\"text_completion\",\"created\":");
  out.append_i64(g.created_s);
  out.append(",\"model\":");
  out.append(g.model_json);
  out.append(",\"choices\":[{\"index\":0,");
  if (is_chat(g)) {
    out.append("\"message\":{\"role\":\"assistant\",\"content\":\"");
    append_words(g, g.reasoning_tokens, g.content_tokens, out);
    out.push('"');
    if (g.reasoning_tokens > 0) {
      out.append(",\"reasoning_content\":\"");
      append_words(g, 0, g.reasoning_tokens, out);
      out.push('"');
    }
    out.push('}');
  } else {
    out.append("\"text\":\"");
    append_words(g, g.reasoning_tokens, g.content_tokens, out);
    out.push('"');
  }
  out.append(",\"logprobs\":null,\"finish_reason\":\"");
  out.append(finish_reason(g));
  out.append("\"}]");
  if (g.usage_mode != UsageMode::kNone) {
    out.push(',');
    append_usage(g, out);
  }
  if (g.usage_mode == UsageMode::kFinal) {
    out.push(',');
    append_timings(g, out);
  }
  out.push('}');
}

void OpenAiStream::error_body(int status, std::string_view message, OutBuffer& out) const {
  append_openai_error(status, message, out);
}

}  // namespace llmload::mock
