// openai-completions: POST /v1/completions, SSE chunks with choices[0].text, `data: [DONE]`.
#include "worker/adapters/adapter_util.h"
#include "worker/adapters/openai_common.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

bool classify_text_choice(const JsonSlice& choice, ChunkInfo& out) {
  JsonSlice text;
  std::string_view key = "text";
  if (!json_find_members(choice.raw, &key, 1, &text)) return false;
  if (text.present() && !text.is_string() && !text.is_null()) return false;
  out.kind = text.is_nonempty_string() ? ChunkKind::content : ChunkKind::empty;
  return true;
}

class OpenAiCompletions final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    if (auto err = check_common(name(), options)) return *err;
    nlohmann::json body = {{"model", options.model}, {"prompt", prompt_text(prompt)}};
    add_openai_options(body, options);
    return finish_body(name(), body, options);
  }

  ClassifyStatus classify(std::string_view event_name, std::string_view data, StreamState& state,
                          ChunkInfo& out) const override {
    return classify_openai(event_name, data, state, out, &classify_text_choice);
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_openai_completions(const ApiDescriptor& descriptor) {
  return std::make_unique<OpenAiCompletions>(descriptor);
}

}  // namespace llmload::worker::adapters
