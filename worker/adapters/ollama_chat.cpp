// ollama-chat: POST /api/chat, NDJSON lines with message.content, ended by a done:true object
// that carries the counts and durations.
#include "worker/adapters/adapter_util.h"
#include "worker/adapters/ollama_common.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

class OllamaChat final : public ApiAdapter {
 public:
  std::string_view name() const override { return "ollama-chat"; }
  Framing stream_framing() const override { return Framing::ndjson; }
  std::string_view endpoint_path() const override { return "/api/chat"; }
  std::string_view preflight_path() const override { return "/api/tags"; }
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    if (auto err = check_common(name(), options)) return *err;
    nlohmann::json body = {{"model", options.model}, {"messages", chat_messages(prompt)}};
    add_ollama_options(body, options);
    return finish_body(name(), body, options);
  }

  ClassifyStatus classify(std::string_view /*event_name*/, std::string_view data,
                          StreamState& state, ChunkInfo& out) const override {
    return classify_ollama(data, state, out, /*chat=*/true);
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_ollama_chat() {
  return std::make_unique<OllamaChat>();
}

}  // namespace llmload::worker::adapters
