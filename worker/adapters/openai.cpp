// The OpenAI family: openai-chat (POST /v1/chat/completions, SSE chunks with choices[0].delta)
// and openai-completions (POST /v1/completions, choices[0].text), both ended by `data: [DONE]`.
// Also serves vLLM, llama.cpp, SGLang, TGI and other OpenAI-compatible servers. One adapter: the
// descriptor's `chat` picks messages or prompt in the body and delta or text in the chunks.
#include "worker/adapters/adapter_util.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

// Classifies choices[0] of a chunk (delta / message / text): sets out.kind, and out.final for a
// non-streamed `message`. Returns false when its shape is malformed.
using ChoiceClassifier = bool (*)(const JsonSlice& choice, ChunkInfo& out);

void add_openai_options(nlohmann::json& body, const RequestOptions& options) {
  body["stream"] = options.stream;
  // stream_options is only valid on a streamed request (OpenAI rejects it otherwise).
  // continuous_usage_stats needs include_usage (vLLM reports per-chunk usage only with both).
  if (options.stream && (options.include_usage || options.continuous_usage_stats)) {
    nlohmann::json so = {{"include_usage", true}};
    if (options.continuous_usage_stats) so["continuous_usage_stats"] = true;
    body["stream_options"] = std::move(so);
  }
  if (options.max_tokens) body["max_tokens"] = *options.max_tokens;
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.ignore_eos) body["ignore_eos"] = true;
}

ClassifyStatus classify_openai(std::string_view event_name, std::string_view data,
                               StreamState& state, ChunkInfo& out, ChoiceClassifier choice) {
  out = ChunkInfo{};
  const std::string_view d = trim_ws(data);
  if (d == "[DONE]") {
    out.kind = ChunkKind::done;
    out.final = true;
    settle(state, out);
    return ClassifyStatus::ok;
  }
  if (d.empty() || d.front() != '{') {
    // Some servers send `event: error` with a plain-text message.
    if (event_name == "error") {
      set_error(JsonSlice{JsonType::missing, d}, state, out);
      return ClassifyStatus::ok;
    }
    return malformed(out, "stream chunk is not a JSON object");
  }
  enum { kChoices, kUsage, kError, kId, kTimings, kObject, kCount };
  JsonSlice f[kCount];
  if (!json_find_members(d, {"choices", "usage", "error", "id", "timings", "object"}, f))
    return malformed(out, "malformed JSON in stream chunk");

  // Error payloads: {"error": {...}} (OpenAI, llama.cpp, newer vLLM), {"object": "error",
  // "message": ...} (older vLLM), or an `event: error` event.
  if (f[kError].present() && !f[kError].is_null()) {
    set_error(f[kError], state, out);
    return ClassifyStatus::ok;
  }
  if (f[kObject].string_raw() == "error" || event_name == "error") {
    set_error(JsonSlice{JsonType::object, d}, state, out);
    return ClassifyStatus::ok;
  }

  if (f[kId].is_string()) out.id = f[kId].string_raw();
  if (!read_openai_usage(f[kUsage], out)) return malformed(out, "malformed usage in stream chunk");
  if (!read_llamacpp_timings(f[kTimings], out))
    return malformed(out, "malformed timings in stream chunk");

  out.kind = ChunkKind::other;
  if (f[kChoices].is_array()) {
    bool ok = false;
    const JsonSlice c0 = json_array_element(f[kChoices].raw, 0, &ok);
    if (!ok) return malformed(out, "malformed choices in stream chunk");
    if (c0.present()) {
      if (!c0.is_object() || !choice(c0, out))
        return malformed(out, "malformed choice in stream chunk");
    }
  } else if (f[kChoices].present() && !f[kChoices].is_null()) {
    return malformed(out, "choices is not an array");
  }
  // No text but usage: the include_usage chunk (empty choices) or llama.cpp's final chunk
  // (an empty delta with finish_reason and usage).
  if ((out.kind == ChunkKind::empty || out.kind == ChunkKind::other) && out.has_usage)
    out.kind = ChunkKind::usage_only;
  settle(state, out);
  return ClassifyStatus::ok;
}

// The generated text of a tool_calls delta, for the tokenizer's output count (ChunkInfo::
// text_json): its one call's function.arguments piece, or the function name on the call's first
// delta. Empty (the count falls back to chunks) when it is not one string: several calls in one
// delta, or a name and arguments together.
std::string_view tool_call_text(const JsonSlice& calls) {
  bool ok = false;
  if (json_array_count(calls.raw) != 1) return {};
  const JsonSlice call = json_array_element(calls.raw, 0, &ok);
  JsonSlice function;
  std::string_view key = "function";
  if (!ok || !call.is_object() || !json_find_members(call.raw, &key, 1, &function) ||
      !function.is_object())
    return {};
  JsonSlice f[2];
  if (!json_find_members(function.raw, {"name", "arguments"}, f)) return {};
  const bool name = f[0].is_nonempty_string(), args = f[1].is_nonempty_string();
  if (name == args) return {};
  return name ? f[0].raw : f[1].raw;
}

// choices[0]: a streamed `delta` or a non-streamed `message`.
bool classify_chat_choice(const JsonSlice& choice, ChunkInfo& out) {
  JsonSlice c[2];
  if (!json_find_members(choice.raw, {"delta", "message"}, c)) return false;
  JsonSlice src;
  if (c[0].is_object()) {
    src = c[0];
  } else if (c[1].is_object()) {
    src = c[1];
    out.final = true;  // a whole non-streamed answer
  } else {
    out.kind = ChunkKind::empty;  // e.g. only a finish_reason
    return !c[0].present() || c[0].is_null();
  }
  enum { kContent, kReasoningContent, kReasoning, kToolCalls, kRole, kRefusal, kCount };
  JsonSlice m[kCount];
  if (!json_find_members(
          src.raw, {"content", "reasoning_content", "reasoning", "tool_calls", "role", "refusal"},
          m))
    return false;
  if (m[kToolCalls].is_array() && !m[kToolCalls].is_empty_container()) {
    out.kind = ChunkKind::tool_call;
    out.text_json = tool_call_text(m[kToolCalls]);
  } else if (m[kContent].is_nonempty_string() || m[kRefusal].is_nonempty_string()) {
    out.kind = ChunkKind::content;
    out.text_json = m[kContent].is_nonempty_string() ? m[kContent].raw : m[kRefusal].raw;
  } else if (m[kReasoningContent].is_nonempty_string() || m[kReasoning].is_nonempty_string()) {
    out.kind = ChunkKind::reasoning;
    out.text_json =
        m[kReasoningContent].is_nonempty_string() ? m[kReasoningContent].raw : m[kReasoning].raw;
  } else if (m[kRole].is_string()) {
    out.kind = ChunkKind::role_only;
  } else {
    out.kind = ChunkKind::empty;
  }
  return true;
}

bool classify_text_choice(const JsonSlice& choice, ChunkInfo& out) {
  JsonSlice text;
  std::string_view key = "text";
  if (!json_find_members(choice.raw, &key, 1, &text)) return false;
  if (text.present() && !text.is_string() && !text.is_null()) return false;
  out.kind = text.is_nonempty_string() ? ChunkKind::content : ChunkKind::empty;
  if (out.kind == ChunkKind::content) out.text_json = text.raw;
  return true;
}

class OpenAi final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    return family_body(*this, prompt, options, &add_openai_options);
  }

  ClassifyStatus classify(std::string_view event_name, std::string_view data, StreamState& state,
                          ChunkInfo& out) const override {
    return classify_openai(event_name, data, state, out,
                           descriptor().chat ? &classify_chat_choice : &classify_text_choice);
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_openai(const ApiDescriptor& descriptor) {
  return std::make_unique<OpenAi>(descriptor);
}

}  // namespace llmload::worker::adapters
