// Ollama's NDJSON: one JSON object per line; /api/chat carries message.content, /api/generate
// carries response; the last line has done:true, done_reason and the durations in ns.
#include "mock/ollama_stream.h"

namespace llmload::mock {

namespace {

bool is_chat(const Generation& g) {
  return g.api == Api::kOllamaChat;
}

void line_head(const Generation& g, OutBuffer& e) {
  e.append("{\"model\":");
  e.append(g.model_json);
  e.append(",\"created_at\":\"");
  e.append(g.created_at);
  e.append(is_chat(g) ? "\",\"message\":{\"role\":\"assistant\",\"content\":\""
                      : "\",\"response\":\"");
}

void line_tail(const Generation& g, OutBuffer& e) {
  e.append(is_chat(g) ? "\"},\"done\":false}\n" : "\",\"done\":false}\n");
}

// The planned durations (docs/mock.md "Server-reported figures"), so tests can check every
// value to the nanosecond; queueing for a capacity slot is in none of them.
void done_fields(const Generation& g, OutBuffer& e) {
  e.append(",\"done\":true,\"done_reason\":\"");
  e.append(g.length_limited ? "length" : "stop");
  e.append("\",\"total_duration\":");
  e.append_i64(g.first_token_delay_ns() + g.eval_ns());
  e.append(",\"load_duration\":");
  e.append_i64(g.load_ns);
  // --usage none: no counts (eval_count is Ollama's usage), the durations stay.
  if (g.usage_mode != UsageMode::kNone) {
    e.append(",\"prompt_eval_count\":");
    e.append_i64(g.prompt_tokens);
  }
  e.append(",\"prompt_eval_duration\":");
  e.append_i64(g.prompt_eval_ns());
  if (g.usage_mode != UsageMode::kNone) {
    e.append(",\"eval_count\":");
    e.append_i64(g.total_tokens());
  }
  e.append(",\"eval_duration\":");
  e.append_i64(g.eval_ns());
  e.append("}");
}

}  // namespace

const char* OllamaStream::content_type(bool stream) const {
  return stream ? "application/x-ndjson" : "application/json; charset=utf-8";
}

void OllamaStream::preamble(const Generation&, ChunkSink&) const {}

void OllamaStream::tokens(const Generation& g, int first, int count, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  line_head(g, e);
  if (is_chat(g) && first < g.reasoning_tokens) {
    // Ollama puts a thinking model's reasoning in message.thinking.
    e.append("\",\"thinking\":\"");
  }
  append_words(g, first, count, e);
  line_tail(g, e);
  sink.end_event();
}

void OllamaStream::finish(const Generation& g, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  line_head(g, e);
  e.append(is_chat(g) ? "\"}" : "\"");
  done_fields(g, e);
  e.push('\n');
  sink.end_event();
}

void OllamaStream::error_event(const Generation&, ChunkSink& sink) const {
  sink.begin_event().append("{\"error\":\"mock fault: error inside the stream\"}\n");
  sink.end_event();
}

void OllamaStream::malformed(const Generation& g, int index, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  line_head(g, e);
  append_words(g, index, 1, e);
  e.append("\",\"do\n");
  sink.end_event();
}

void OllamaStream::huge_line(const Generation& g, size_t bytes, ChunkSink& sink) const {
  OutBuffer& e = sink.begin_event();
  line_head(g, e);
  e.push(' ');
  e.append_fill('x', bytes);
  line_tail(g, e);
  sink.end_event();
}

void OllamaStream::body(const Generation& g, OutBuffer& out) const {
  line_head(g, out);
  append_words(g, g.reasoning_tokens, g.content_tokens, out);
  out.append(is_chat(g) ? "\"}" : "\"");
  done_fields(g, out);
}

void OllamaStream::error_body(int, std::string_view message, OutBuffer& out) const {
  out.append("{\"error\":");
  append_json_string(out, message);
  out.push('}');
}

}  // namespace llmload::mock
