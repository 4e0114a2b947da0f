// openai-chat: POST /v1/chat/completions, SSE chunks with choices[0].delta, `data: [DONE]`.
// Also serves vLLM, llama.cpp, SGLang, TGI and other OpenAI-compatible servers.
#include "worker/adapters/adapter_util.h"
#include "worker/adapters/openai_common.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

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
  } else if (m[kContent].is_nonempty_string() || m[kRefusal].is_nonempty_string()) {
    out.kind = ChunkKind::content;
  } else if (m[kReasoningContent].is_nonempty_string() || m[kReasoning].is_nonempty_string()) {
    out.kind = ChunkKind::reasoning;
  } else if (m[kRole].is_string()) {
    out.kind = ChunkKind::role_only;
  } else {
    out.kind = ChunkKind::empty;
  }
  return true;
}

class OpenAiChat final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    if (auto err = check_common(name(), options)) return *err;
    nlohmann::json body = {{"model", options.model}, {"messages", chat_messages(prompt)}};
    add_openai_options(body, options);
    return finish_body(name(), body, options);
  }

  ClassifyStatus classify(std::string_view event_name, std::string_view data, StreamState& state,
                          ChunkInfo& out) const override {
    return classify_openai(event_name, data, state, out, &classify_chat_choice);
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_openai_chat(const ApiDescriptor& descriptor) {
  return std::make_unique<OpenAiChat>(descriptor);
}

}  // namespace llmload::worker::adapters
