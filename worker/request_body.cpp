#include "worker/request_body.h"

#include "worker/api_adapter.h"

namespace llmload::worker {

Expected<std::shared_ptr<const ApiAdapter>> adapter_for(const std::string& api_name) {
  auto a = make_adapter(api_name);
  if (!a) return Error{a.error()};
  return std::shared_ptr<const ApiAdapter>(std::move(a.value()));
}

Expected<std::string> build_request_body(const ApiAdapter& adapter, const BodyInput& in) {
  std::vector<ChatMessage> msgs;
  msgs.reserve(in.messages.size());
  for (const auto& [role, content] : in.messages) msgs.push_back(ChatMessage{role, content});
  PromptView view;
  view.text = in.text;
  view.messages = std::span<const ChatMessage>(msgs.data(), msgs.size());
  RequestOptions opt;
  opt.model = in.model;
  opt.max_tokens = in.max_tokens;
  opt.temperature = in.temperature;
  opt.stream = true;
  opt.include_usage = in.include_usage;
  opt.continuous_usage_stats = in.continuous_usage;
  opt.ignore_eos = in.ignore_eos;
  opt.extra_body_json = in.extra_body_json;
  return adapter.build_body(view, opt);
}

std::string adapter_endpoint_path(const ApiAdapter& adapter) {
  return std::string(adapter.endpoint_path());
}

std::vector<std::pair<std::string, std::string>> adapter_required_headers(const ApiAdapter& a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const AdapterHeader& h : a.required_headers()) out.emplace_back(h.name, h.value);
  return out;
}

}  // namespace llmload::worker
