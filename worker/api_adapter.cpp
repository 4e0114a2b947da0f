#include "worker/api_adapter.h"

#include "worker/adapters/adapter_util.h"

namespace llmload::worker {

const char* to_string(ChunkKind k) {
  switch (k) {
    case ChunkKind::role_only:
      return "role_only";
    case ChunkKind::empty:
      return "empty";
    case ChunkKind::content:
      return "content";
    case ChunkKind::reasoning:
      return "reasoning";
    case ChunkKind::tool_call:
      return "tool_call";
    case ChunkKind::usage_only:
      return "usage_only";
    case ChunkKind::error:
      return "error";
    case ChunkKind::done:
      return "done";
    case ChunkKind::other:
      return "other";
  }
  return "?";
}

const char* to_string(TokenSource s) {
  switch (s) {
    case TokenSource::usage:
      return "usage";
    case TokenSource::counted:
      return "counted";
    case TokenSource::tokenizer:
      return "tokenizer";
  }
  return "?";
}

std::unique_ptr<ApiAdapter> make_adapter(Api api) {
  using namespace adapters;
  const ApiDescriptor& d = api_descriptor(api);
  switch (d.body) {
    case BodyFamily::kOpenAi:
      return make_openai(d);
    case BodyFamily::kOllama:
      return make_ollama(d);
    case BodyFamily::kAnthropic:
      return make_anthropic_messages(d);
    case BodyFamily::kOpenAiEmbeddings:
      return make_openai_embeddings(d);
  }
  return nullptr;
}

Expected<std::unique_ptr<ApiAdapter>> make_adapter(std::string_view api_name) {
  if (auto api = parse_api(api_name)) return make_adapter(*api);
  return Error{"unknown api '" + std::string(api_name) + "' (known: " + api_name_list(" ") + ")"};
}

Expected<std::string> build_request_body(const ApiAdapter& adapter, const BodyInput& in) {
  std::vector<ChatMessage> msgs;
  msgs.reserve(in.messages.size());
  for (const auto& [role, content] : in.messages) msgs.push_back(ChatMessage{role, content});
  std::vector<std::string_view> inputs(in.inputs.begin(), in.inputs.end());
  PromptView view;
  view.text = in.text;
  view.messages = std::span<const ChatMessage>(msgs.data(), msgs.size());
  view.inputs = std::span<const std::string_view>(inputs.data(), inputs.size());
  RequestOptions opt;
  opt.model = in.model;
  opt.max_tokens = in.max_tokens;
  opt.temperature = in.temperature;
  opt.stream = in.stream;
  opt.include_usage = in.include_usage;
  opt.continuous_usage_stats = in.continuous_usage;
  opt.ignore_eos = in.ignore_eos;
  opt.extra_body_json = in.extra_body_json;
  return adapter.build_body(view, opt);
}

std::string join_url_path(std::string_view base, std::string_view endpoint) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  const bool base_v1 = base.size() >= 3 && base.substr(base.size() - 3) == "/v1";
  if (base_v1 && endpoint.substr(0, 4) == "/v1/") endpoint.remove_prefix(3);
  std::string out;
  out.reserve(base.size() + endpoint.size() + 1);
  out += base;
  if (endpoint.empty() || endpoint.front() != '/') out += '/';
  out += endpoint;
  return out;
}

}  // namespace llmload::worker
