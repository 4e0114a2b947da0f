#include "worker/adapters/openai_common.h"

#include "worker/adapters/adapter_util.h"

namespace llmload::worker::adapters {

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

}  // namespace llmload::worker::adapters
