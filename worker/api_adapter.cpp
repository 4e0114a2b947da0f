#include "worker/api_adapter.h"

#include <array>

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
  return s == TokenSource::usage ? "usage" : "counted";
}

const char* to_string(Framing f) {
  switch (f) {
    case Framing::sse:
      return "sse";
    case Framing::ndjson:
      return "ndjson";
    case Framing::json_body:
      return "json_body";
  }
  return "?";
}

namespace {
constexpr std::array<std::string_view, 5> kApiNames = {
    "openai-chat", "openai-completions", "ollama-chat", "ollama-generate", "anthropic-messages"};
}  // namespace

std::span<const std::string_view> api_names() {
  return kApiNames;
}

Expected<std::unique_ptr<ApiAdapter>> make_adapter(std::string_view api_name) {
  using namespace adapters;
  if (api_name == "openai-chat") return make_openai_chat();
  if (api_name == "openai-completions") return make_openai_completions();
  if (api_name == "ollama-chat") return make_ollama_chat();
  if (api_name == "ollama-generate") return make_ollama_generate();
  if (api_name == "anthropic-messages") return make_anthropic_messages();
  std::string msg = "unknown api '" + std::string(api_name) + "' (known:";
  for (std::string_view n : kApiNames) {
    msg += ' ';
    msg += n;
  }
  msg += ')';
  return Error{std::move(msg)};
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
