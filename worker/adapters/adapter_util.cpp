#include "worker/adapters/adapter_util.h"

#include <algorithm>
#include <limits>

namespace llmload::worker::adapters {

std::optional<Error> check_common(std::string_view api, const RequestOptions& options) {
  if (options.model.empty())
    return Error{std::string(api) + ": model is required (set `model` in the scenario or --model)"};
  if (options.max_tokens && *options.max_tokens <= 0)
    return Error{std::string(api) + ": max_tokens must be positive, got " +
                 std::to_string(*options.max_tokens)};
  return std::nullopt;
}

nlohmann::json chat_messages(const PromptView& prompt) {
  nlohmann::json messages = nlohmann::json::array();
  if (prompt.messages.empty()) {
    messages.push_back({{"role", "user"}, {"content", std::string(prompt.text)}});
    return messages;
  }
  for (const ChatMessage& m : prompt.messages)
    messages.push_back({{"role", std::string(m.role)}, {"content", std::string(m.content)}});
  return messages;
}

std::string prompt_text(const PromptView& prompt) {
  if (!prompt.text.empty() || prompt.messages.empty()) return std::string(prompt.text);
  std::string out;
  for (const ChatMessage& m : prompt.messages) {
    if (!out.empty()) out += "\n\n";
    out += m.content;
  }
  return out;
}

Expected<std::string> finish_body(std::string_view api, nlohmann::json& body,
                                  const RequestOptions& options) {
  if (!options.extra_body_json.empty()) {
    nlohmann::json extra = nlohmann::json::parse(options.extra_body_json, nullptr, false);
    if (extra.is_discarded())
      return Error{std::string(api) + ": extra body fields are not valid JSON"};
    if (!extra.is_object())
      return Error{std::string(api) + ": extra body fields must be a JSON object, got " +
                   extra.type_name()};
    body.merge_patch(extra);
  }
  // Invalid UTF-8 in a prompt is replaced rather than thrown on.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ClassifyStatus malformed(ChunkInfo& out, const char* why) {
  out.kind = ChunkKind::error;
  out.tokens = 0;
  out.error_message = why;
  return ClassifyStatus::malformed;
}

void set_error(const JsonSlice& msg, StreamState& state, ChunkInfo& out) {
  out.kind = ChunkKind::error;
  state.scratch.clear();
  if (msg.is_object()) {
    JsonSlice m;
    std::string_view key = "message";
    if (json_find_members(msg.raw, &key, 1, &m) && m.is_string() &&
        json_unescape(m, state.scratch)) {
      out.error_message = state.scratch;
      return;
    }
    state.scratch.clear();
  }
  if (msg.is_string() && json_unescape(msg, state.scratch)) {
    out.error_message = state.scratch;
    return;
  }
  state.scratch.assign(msg.raw.data(), msg.raw.size());
  if (state.scratch.empty()) state.scratch = "error event without a message";
  out.error_message = state.scratch;
}

bool read_int(const JsonSlice& v, int64_t& dst) {
  if (!v.present() || v.is_null()) return true;
  return json_to_int(v, dst);
}

bool read_openai_usage(const JsonSlice& usage, ChunkInfo& out) {
  if (!usage.is_object()) return usage.is_null() || !usage.present();
  JsonSlice f[3];
  if (!json_find_members(usage.raw, {"prompt_tokens", "completion_tokens", "prompt_tokens_details"},
                         f))
    return false;
  if (!read_int(f[0], out.prompt_tokens) || !read_int(f[1], out.completion_tokens)) return false;
  out.has_usage = out.prompt_tokens >= 0 || out.completion_tokens >= 0;
  if (f[2].is_object()) {
    JsonSlice cached;
    std::string_view key = "cached_tokens";
    int64_t v;
    if (json_find_members(f[2].raw, &key, 1, &cached) && json_to_int(cached, v) && v >= 0) {
      out.timings.cached_tokens = v;
      out.has_timings = true;
    }
  }
  return true;
}

bool read_llamacpp_timings(const JsonSlice& timings, ChunkInfo& out) {
  if (!timings.is_object()) return timings.is_null() || !timings.present();
  JsonSlice f[5];
  if (!json_find_members(timings.raw,
                         {"prompt_ms", "predicted_ms", "prompt_n", "predicted_n", "cache_n"}, f))
    return false;
  ServerTimings& t = out.timings;
  double d;
  int64_t i;
  if (json_to_double(f[0], d)) t.prompt_ms = d;
  if (json_to_double(f[1], d)) t.predicted_ms = d;
  if (json_to_int(f[2], i)) t.prompt_n = i;
  if (json_to_int(f[3], i)) t.predicted_n = i;
  if (json_to_int(f[4], i)) t.cache_n = i;
  out.has_timings = !t.empty();
  return true;
}

void settle(StreamState& state, ChunkInfo& out) {
  if (is_token_bearing(out.kind)) {
    int64_t k = 1;
    if (out.completion_tokens >= 0)
      k = std::max<int64_t>(1, out.completion_tokens - state.counted_tokens);
    k = std::min<int64_t>(k, std::numeric_limits<int32_t>::max());
    out.tokens = static_cast<int32_t>(k);
    state.counted_tokens += k;
    ++state.token_chunks;
  } else {
    out.tokens = 0;
  }
  if (out.has_usage) {
    if (out.prompt_tokens >= 0) state.usage_prompt_tokens = out.prompt_tokens;
    if (out.completion_tokens >= 0) state.usage_completion_tokens = out.completion_tokens;
  }
  if (out.final) state.final_seen = true;
  if (out.has_timings) state.server.update(out.timings);
}

Expected<std::string> family_body(const ApiAdapter& adapter, const PromptView& prompt,
                                  const RequestOptions& options, AddOptions add_options) {
  if (auto err = check_common(adapter.name(), options)) return *err;
  nlohmann::json body =
      adapter.descriptor().chat
          ? nlohmann::json{{"model", options.model}, {"messages", chat_messages(prompt)}}
          : nlohmann::json{{"model", options.model}, {"prompt", prompt_text(prompt)}};
  add_options(body, options);
  return finish_body(adapter.name(), body, options);
}

}  // namespace llmload::worker::adapters
