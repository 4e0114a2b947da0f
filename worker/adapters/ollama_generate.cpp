// ollama-generate: POST /api/generate, NDJSON lines with `response`, ended by a done:true object
// that carries the counts and durations.
#include "worker/adapters/adapter_util.h"
#include "worker/adapters/ollama_common.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

class OllamaGenerate final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    if (auto err = check_common(name(), options)) return *err;
    nlohmann::json body = {{"model", options.model}, {"prompt", prompt_text(prompt)}};
    add_ollama_options(body, options);
    return finish_body(name(), body, options);
  }

  ClassifyStatus classify(std::string_view /*event_name*/, std::string_view data,
                          StreamState& state, ChunkInfo& out) const override {
    return classify_ollama(data, state, out, /*chat=*/false);
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_ollama_generate(const ApiDescriptor& descriptor) {
  return std::make_unique<OllamaGenerate>(descriptor);
}

}  // namespace llmload::worker::adapters
