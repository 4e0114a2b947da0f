// openai-embeddings (POST /v1/embeddings): a batch of texts in, one vector per text out, in one
// JSON body (never streamed). Also vLLM, llama.cpp and TEI's OpenAI-compatible route. The
// response is {"object": "list", "data": [{"index", "embedding"}, ...], "usage":
// {"prompt_tokens", "total_tokens"}}: the adapter counts the data entries (the inputs embedded)
// and reads prompt_tokens as the input tokens; there are no output tokens.
#include <cstdint>

#include "worker/adapters/adapter_util.h"

namespace llmload::worker::adapters {
namespace {

constexpr AdapterHeader kHeaders[] = {{"Content-Type", "application/json"}};

class OpenAiEmbeddings final : public ApiAdapter {
 public:
  using ApiAdapter::ApiAdapter;
  std::span<const AdapterHeader> required_headers() const override { return kHeaders; }

  Expected<std::string> build_body(const PromptView& prompt,
                                   const RequestOptions& options) const override {
    if (auto err = check_common(name(), options)) return *err;
    nlohmann::json input = nlohmann::json::array();
    if (prompt.inputs.empty()) {
      input.push_back(prompt_text(prompt));
    } else {
      for (std::string_view t : prompt.inputs) input.push_back(std::string(t));
    }
    // No stream, max_tokens or temperature: the embeddings API takes none of them.
    nlohmann::json body = {{"model", options.model}, {"input", std::move(input)}};
    return finish_body(name(), body, options);
  }

  ClassifyStatus classify(std::string_view event_name, std::string_view data, StreamState& state,
                          ChunkInfo& out) const override {
    (void)event_name;
    out = ChunkInfo{};
    const std::string_view d = trim_ws(data);
    if (d.empty() || d.front() != '{') return malformed(out, "response is not a JSON object");
    enum { kData, kUsage, kError, kObject, kCount };
    JsonSlice f[kCount];
    if (!json_find_members(d, {"data", "usage", "error", "object"}, f))
      return malformed(out, "malformed JSON in the response");
    if (f[kError].present() && !f[kError].is_null()) {
      set_error(f[kError], state, out);
      return ClassifyStatus::ok;
    }
    if (f[kObject].string_raw() == "error") {
      set_error(JsonSlice{JsonType::object, d}, state, out);
      return ClassifyStatus::ok;
    }
    if (!f[kData].is_array()) return malformed(out, "response has no data array");
    const int64_t n = json_array_count(f[kData].raw, JsonType::object);
    if (n < 0 || n > INT32_MAX) return malformed(out, "data is not an array of objects");
    if (!read_openai_usage(f[kUsage], out))
      return malformed(out, "malformed usage in the response");
    out.kind = ChunkKind::done;  // the body is its own terminator, carrying no text
    out.inputs = static_cast<int32_t>(n);
    out.has_usage = true;
    out.completion_tokens = 0;  // embeddings generate nothing: output tokens 0, from the usage
    out.final = true;
    settle(state, out);
    state.inputs += n;
    return ClassifyStatus::ok;
  }
};

}  // namespace

std::unique_ptr<ApiAdapter> make_openai_embeddings(const ApiDescriptor& descriptor) {
  return std::make_unique<OpenAiEmbeddings>(descriptor);
}

}  // namespace llmload::worker::adapters
