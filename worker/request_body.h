// The engine's narrow door to the API adapters for everything done ONCE per prompt before load:
// picking the adapter, building a request body, its endpoint path and required headers. Plain
// types only (this header includes neither api_adapter.h nor scenario.h: their `Header`s clash).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"

namespace llmload::worker {

class ApiAdapter;

struct BodyInput {
  std::string text;                                           // plain prompt
  std::vector<std::pair<std::string, std::string>> messages;  // (role, content) chat messages
  std::string model;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  bool include_usage = true;
  bool continuous_usage = false;
  bool ignore_eos = false;
  std::string extra_body_json;  // a JSON object (merge patch) or empty
};

// The adapter for an API name ("openai-chat", ...); immutable and shareable across loops.
Expected<std::shared_ptr<const ApiAdapter>> adapter_for(const std::string& api_name);
Expected<std::string> build_request_body(const ApiAdapter& adapter, const BodyInput& input);
std::string adapter_endpoint_path(const ApiAdapter& adapter);
std::vector<std::pair<std::string, std::string>> adapter_required_headers(const ApiAdapter& a);

}  // namespace llmload::worker
