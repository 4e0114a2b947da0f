// anthropic-messages: POST /v1/messages, SSE with named events (message_start,
// content_block_start/delta/stop, message_delta, message_stop, ping, error). max_tokens is
// required by the API; system messages go to the top-level `system` field.
#include "worker/adapters/adapter_util.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"},
                                      {"anthropic-version", "2023-06-01"}};

// content_block_delta: delta.type says which text it carries (*text: its JSON string).
ChunkKind classify_delta(const JsonSlice& delta, bool* ok, std::string_view* text) {
  JsonSlice m[4];
  *ok = delta.is_object() &&
        json_find_members(delta.raw, {"type", "text", "thinking", "partial_json"}, m);
  if (!*ok) return ChunkKind::other;
  const std::string_view type = m[0].string_raw();
  if (type == "text_delta") {
    if (!m[1].is_nonempty_string()) return ChunkKind::empty;
    *text = m[1].raw;
    return ChunkKind::content;
  }
  if (type == "thinking_delta" || type == "input_json_delta") {
    const JsonSlice& t = type == "thinking_delta" ? m[2] : m[3];
    if (!t.is_nonempty_string()) return ChunkKind::empty;
    *text = t.raw;
    return type == "thinking_delta" ? ChunkKind::reasoning : ChunkKind::tool_call;
  }
  return ChunkKind::other;  // signature_delta, citations_delta, future types
}

// content_block_start: a tool_use block names the tool (generated text); text and thinking
// blocks start empty (*text: a text or thinking block's JSON string when it does not).
ChunkKind classify_block_start(const JsonSlice& block, bool* ok, std::string_view* text) {
  JsonSlice m[3];
  *ok = block.is_object() && json_find_members(block.raw, {"type", "text", "thinking"}, m);
  if (!*ok) return ChunkKind::other;
  const std::string_view type = m[0].string_raw();
  if (type == "tool_use" || type == "server_tool_use") return ChunkKind::tool_call;
  if (type == "text" && m[1].is_nonempty_string()) {
    *text = m[1].raw;
    return ChunkKind::content;
  }
  if (type == "thinking" && m[2].is_nonempty_string()) {
    *text = m[2].raw;
    return ChunkKind::reasoning;
  }
  return ChunkKind::other;
}

bool read_anthropic_usage(const JsonSlice& usage, bool with_output, ChunkInfo& out) {
  if (!usage.is_object()) return !usage.present() || usage.is_null();
  JsonSlice u[2];
  if (!json_find_members(usage.raw, {"input_tokens", "output_tokens"}, u)) return false;
  if (!read_int(u[0], out.prompt_tokens)) return false;
  if (with_output && !read_int(u[1], out.completion_tokens)) return false;
  out.has_usage = out.prompt_tokens >= 0 || out.completion_tokens >= 0;
  return true;
}

class AnthropicMessages final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    if (auto err = check_common(name(), options)) return *err;
    if (!options.max_tokens)
      return Error{std::string(name()) + ": max_tokens is required by the Messages API"};
    nlohmann::json messages = nlohmann::json::array();
    std::string system;
    if (prompt.messages.empty()) {
      messages.push_back({{"role", "user"}, {"content", std::string(prompt.text)}});
    } else {
      for (const ChatMessage& m : prompt.messages) {
        if (m.role == "system") {
          if (!system.empty()) system += "\n\n";
          system += m.content;
        } else {
          messages.push_back({{"role", std::string(m.role)}, {"content", std::string(m.content)}});
        }
      }
    }
    nlohmann::json body = {{"model", options.model},
                           {"max_tokens", *options.max_tokens},
                           {"messages", std::move(messages)},
                           {"stream", options.stream}};
    if (!system.empty()) body["system"] = system;
    if (options.temperature) body["temperature"] = *options.temperature;
    return finish_body(name(), body, options);
  }

  ClassifyStatus classify(std::string_view event_name, std::string_view data, StreamState& state,
                          ChunkInfo& out) const override {
    out = ChunkInfo{};
    const std::string_view d = trim_ws(data);
    if (d.empty() || d.front() != '{') {
      if (event_name == "error") {
        set_error(JsonSlice{JsonType::missing, d}, state, out);
        return ClassifyStatus::ok;
      }
      return malformed(out, "event data is not a JSON object");
    }
    enum { kType, kMessage, kDelta, kUsage, kBlock, kError, kContent, kId, kCount };
    JsonSlice f[kCount];
    if (!json_find_members(
            d, {"type", "message", "delta", "usage", "content_block", "error", "content", "id"}, f))
      return malformed(out, "malformed JSON in event data");
    // The event name and the data's type agree on Anthropic's stream; the type serves when a
    // proxy drops the event lines.
    const std::string_view type = event_name.empty() ? f[kType].string_raw() : event_name;
    bool ok = true;
    if (type == "error" || (f[kError].present() && !f[kError].is_null())) {
      set_error(f[kError].present() ? f[kError] : JsonSlice{JsonType::object, d}, state, out);
      return ClassifyStatus::ok;
    } else if (type == "content_block_delta") {
      out.kind = classify_delta(f[kDelta], &ok, &out.text_json);
    } else if (type == "message_start") {
      // message.usage.output_tokens here is a placeholder (1 or 0), not a count: only the
      // input tokens are taken.
      JsonSlice m[2];
      ok = f[kMessage].is_object() && json_find_members(f[kMessage].raw, {"id", "usage"}, m) &&
           read_anthropic_usage(m[1], /*with_output=*/false, out);
      if (ok && m[0].is_string()) out.id = m[0].string_raw();
      out.kind = ChunkKind::role_only;
    } else if (type == "content_block_start") {
      out.kind = classify_block_start(f[kBlock], &ok, &out.text_json);
    } else if (type == "message_delta") {
      ok = read_anthropic_usage(f[kUsage], /*with_output=*/true, out);
      out.kind = out.has_usage ? ChunkKind::usage_only : ChunkKind::other;
    } else if (type == "message_stop") {
      out.kind = ChunkKind::done;
      out.final = true;
    } else if (type == "message") {
      // A non-streamed body: the whole answer with its usage.
      if (f[kId].is_string()) out.id = f[kId].string_raw();
      ok = read_anthropic_usage(f[kUsage], /*with_output=*/true, out);
      out.kind = f[kContent].is_array() && !f[kContent].is_empty_container() ? ChunkKind::content
                                                                             : ChunkKind::done;
      out.final = true;
    } else {
      out.kind = ChunkKind::other;  // ping, content_block_stop, unknown events
    }
    if (!ok) return malformed(out, "unexpected shape in Anthropic event");
    settle(state, out);
    return ClassifyStatus::ok;
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_anthropic_messages(const ApiDescriptor& descriptor) {
  return std::make_unique<AnthropicMessages>(descriptor);
}

}  // namespace llmload::worker::adapters
