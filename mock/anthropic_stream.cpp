// Anthropic Messages streaming: `event: NAME\ndata: {json}\n\n` with message_start,
// content_block_start, ping, content_block_delta (text_delta, or thinking_delta for reasoning
// in a thinking block before the text block), content_block_stop, message_delta (usage),
// message_stop; `error` events for faults.
#include "mock/anthropic_stream.h"

namespace llmload::mock {

namespace {

const char* stop_reason(const Generation& g) {
  return g.length_limited ? "max_tokens" : "end_turn";
}
int text_index(const Generation& g) {
  return g.reasoning_tokens > 0 ? 1 : 0;
}

void block_start(OutBuffer& e, int index, bool thinking) {
  e.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":");
  e.append_i64(index);
  e.append(thinking ? ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
                    : ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
}

void block_stop(OutBuffer& e, int index) {
  e.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":");
  e.append_i64(index);
  e.append("}\n\n");
}

void delta_head(OutBuffer& e, int index, bool thinking) {
  e.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":");
  e.append_i64(index);
  e.append(thinking ? ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\""
                    : ",\"delta\":{\"type\":\"text_delta\",\"text\":\"");
}

}  // namespace

const char* AnthropicStream::content_type(bool stream) const {
  return stream ? "text/event-stream" : "application/json";
}

void AnthropicStream::preamble(const Generation& g, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  e.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_");
  e.append(g.id);
  e.append("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
  e.append(g.model_json);
  e.append(",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null");
  if (g.usage_mode != UsageMode::kNone) {
    e.append(",\"usage\":{\"input_tokens\":");
    e.append_i64(g.prompt_tokens);
    e.append(",\"output_tokens\":1}");
  }
  e.append("}}\n\n");
  sink.end_event();
  block_start(sink.begin_event(), 0, g.reasoning_tokens > 0);
  sink.end_event();
  sink.begin_event().append("event: ping\ndata: {\"type\":\"ping\"}\n\n");
  sink.end_event();
}

void AnthropicStream::tokens(const Generation& g, int first, int count, ChunkSink& sink) const {
  bool thinking = first < g.reasoning_tokens;
  if (!thinking && first == g.reasoning_tokens && g.reasoning_tokens > 0) {
    block_stop(sink.begin_event(), 0);
    sink.end_event();
    block_start(sink.begin_event(), 1, false);
    sink.end_event();
  }
  OutBuffer& e = sink.begin_event();
  delta_head(e, thinking ? 0 : text_index(g), thinking);
  append_words(g, first, count, e);
  e.append("\"}}\n\n");
  sink.end_event();
}

void AnthropicStream::finish(const Generation& g, ChunkSink& sink) const {
  block_stop(sink.begin_event(), text_index(g));
  sink.end_event();
  OutBuffer& e = sink.begin_event();
  e.append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"");
  e.append(stop_reason(g));
  e.append("\",\"stop_sequence\":null}");
  if (g.usage_mode != UsageMode::kNone) {
    e.append(",\"usage\":{\"output_tokens\":");
    e.append_i64(g.total_tokens());
    e.push('}');
  }
  e.append("}\n\n");
  sink.end_event();
  sink.begin_event().append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  sink.end_event();
}

void AnthropicStream::error_event(const Generation&, ChunkSink& sink) const {
  sink.begin_event().append(
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"mock fault: error inside the stream\"}}\n\n");
  sink.end_event();
}

void AnthropicStream::malformed(const Generation& g, int index, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  delta_head(e, text_index(g), false);
  append_words(g, index, 1, e);
  e.append("\"\n\n");
  sink.end_event();
}

void AnthropicStream::huge_line(const Generation& g, size_t bytes, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  delta_head(e, text_index(g), false);
  e.push(' ');
  e.append_fill('x', bytes);
  e.append("\"}}\n\n");
  sink.end_event();
}

void AnthropicStream::body(const Generation& g, OutBuffer& out) const {
  out.append("{\"id\":\"msg_");
  out.append(g.id);
  out.append("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
  out.append(g.model_json);
  out.append(",\"content\":[");
  if (g.reasoning_tokens > 0) {
    out.append("{\"type\":\"thinking\",\"thinking\":\"");
    append_words(g, 0, g.reasoning_tokens, out);
    out.append("\"},");
  }
  out.append("{\"type\":\"text\",\"text\":\"");
  append_words(g, g.reasoning_tokens, g.content_tokens, out);
  out.append("\"}],\"stop_reason\":\"");
  out.append(stop_reason(g));
  out.append("\",\"stop_sequence\":null");
  if (g.usage_mode != UsageMode::kNone) {
    out.append(",\"usage\":{\"input_tokens\":");
    out.append_i64(g.prompt_tokens);
    out.append(",\"output_tokens\":");
    out.append_i64(g.total_tokens());
    out.push('}');
  }
  out.push('}');
}

void AnthropicStream::error_body(int status, std::string_view message, OutBuffer& out) const {
  out.append("{\"type\":\"error\",\"error\":{\"type\":\"");
  out.append(status == 429                    ? "rate_limit_error"
             : status == 529 || status == 503 ? "overloaded_error"
             : status >= 500                  ? "api_error"
             : status == 404                  ? "not_found_error"
             : status == 413                  ? "request_too_large"
                                              : "invalid_request_error");
  out.append("\",\"message\":");
  append_json_string(out, message);
  out.append("}}");
}

}  // namespace llmload::mock
