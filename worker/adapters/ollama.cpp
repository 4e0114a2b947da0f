// The Ollama family: ollama-chat (POST /api/chat, NDJSON lines with message.content) and
// ollama-generate (POST /api/generate, lines with `response`), both ended by a done:true object
// that carries the counts and durations. One adapter: the descriptor's `chat` picks messages or
// prompt in the body and where the text is in each line.
#include "worker/adapters/adapter_util.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

void add_ollama_options(nlohmann::json& body, const RequestOptions& options) {
  body["stream"] = options.stream;
  nlohmann::json opts = nlohmann::json::object();
  if (options.max_tokens) opts["num_predict"] = *options.max_tokens;
  if (options.temperature) opts["temperature"] = *options.temperature;
  if (!opts.empty()) body["options"] = std::move(opts);
}

// The text fields of a chat `message` object.
bool classify_message(const JsonSlice& message, ChunkInfo& out) {
  JsonSlice m[3];
  if (!json_find_members(message.raw, {"content", "thinking", "tool_calls"}, m)) return false;
  if (m[2].is_array() && !m[2].is_empty_container()) {
    out.kind = ChunkKind::tool_call;
  } else if (m[0].is_nonempty_string()) {
    out.kind = ChunkKind::content;
    out.text_json = m[0].raw;
  } else if (m[1].is_nonempty_string()) {
    out.kind = ChunkKind::reasoning;
    out.text_json = m[1].raw;
  } else {
    out.kind = ChunkKind::empty;
  }
  return true;
}

ClassifyStatus classify_ollama(std::string_view data, StreamState& state, ChunkInfo& out,
                               bool chat) {
  out = ChunkInfo{};
  const std::string_view d = trim_ws(data);
  if (d.empty() || d.front() != '{') return malformed(out, "NDJSON line is not a JSON object");
  enum {
    kError,
    kDone,
    kMessage,
    kResponse,
    kThinking,
    kPromptEvalCount,
    kEvalCount,
    kTotalDuration,
    kLoadDuration,
    kPromptEvalDuration,
    kEvalDuration,
    kCount
  };
  JsonSlice f[kCount];
  if (!json_find_members(
          d,
          {"error", "done", "message", "response", "thinking", "prompt_eval_count", "eval_count",
           "total_duration", "load_duration", "prompt_eval_duration", "eval_duration"},
          f))
    return malformed(out, "malformed JSON in NDJSON line");
  if (f[kError].present() && !f[kError].is_null()) {
    set_error(f[kError], state, out);
    return ClassifyStatus::ok;
  }
  if (chat) {
    if (f[kMessage].is_object()) {
      if (!classify_message(f[kMessage], out)) return malformed(out, "malformed message");
    } else {
      out.kind = ChunkKind::other;
    }
  } else if (f[kResponse].is_nonempty_string()) {
    out.kind = ChunkKind::content;
    out.text_json = f[kResponse].raw;
  } else if (f[kThinking].is_nonempty_string()) {
    out.kind = ChunkKind::reasoning;
    out.text_json = f[kThinking].raw;
  } else {
    out.kind = f[kResponse].present() ? ChunkKind::empty : ChunkKind::other;
  }
  if (f[kDone].is_true()) {
    out.final = true;
    if (!is_token_bearing(out.kind)) out.kind = ChunkKind::done;
    int64_t v;
    if (json_to_int(f[kPromptEvalCount], v)) out.prompt_tokens = v;
    if (json_to_int(f[kEvalCount], v)) out.completion_tokens = v;
    out.has_usage = out.prompt_tokens >= 0 || out.completion_tokens >= 0;
    ServerTimings& t = out.timings;
    if (json_to_int(f[kTotalDuration], v)) t.total_duration_ns = v;
    if (json_to_int(f[kLoadDuration], v)) t.load_duration_ns = v;
    if (json_to_int(f[kPromptEvalDuration], v)) t.prompt_eval_duration_ns = v;
    if (json_to_int(f[kEvalDuration], v)) t.eval_duration_ns = v;
    if (out.prompt_tokens >= 0) t.prompt_eval_count = out.prompt_tokens;
    if (out.completion_tokens >= 0) t.eval_count = out.completion_tokens;
    out.has_timings = t.total_duration_ns || t.load_duration_ns || t.prompt_eval_duration_ns ||
                      t.eval_duration_ns || t.prompt_eval_count || t.eval_count;
    // The final object's eval_count is the whole answer, not this line's share: attribute this
    // line's own text (if any) as one token.
    const int64_t reported = out.completion_tokens;
    out.completion_tokens = -1;
    settle(state, out);
    out.completion_tokens = reported;
    if (reported >= 0) state.usage_completion_tokens = reported;
    return ClassifyStatus::ok;
  }
  settle(state, out);
  return ClassifyStatus::ok;
}

class Ollama final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    return family_body(*this, prompt, options, &add_ollama_options);
  }

  ClassifyStatus classify(std::string_view /*event_name*/, std::string_view data,
                          StreamState& state, ChunkInfo& out) const override {
    return classify_ollama(data, state, out, descriptor().chat);
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_ollama(const ApiDescriptor& descriptor) {
  return std::make_unique<Ollama>(descriptor);
}

}  // namespace llmload::worker::adapters
