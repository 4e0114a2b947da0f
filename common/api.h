// The streaming LLM APIs llmload speaks, described once. Each API is one row of kApiDescriptors:
// its name as scenarios and --api spell it, how its stream is framed, the endpoint its requests
// go to, how the pre-flight probes a target without generating tokens, and which request-body
// family (and so which adapter) it belongs to. Scenario parsing, overrides, the CLI help, the
// adapter factory (worker/api_adapter.cpp) and the pre-flight (worker/preflight.cpp) all read
// this table; nothing else in product code spells an API's name. mock/ keeps its own table on
// purpose: the oracle must not share a bug with what it checks.
//
// Adding an API: a row here, its adapter in worker/adapters/ (reached through `body` and
// `chat`), its row in tests/unit/adapter_contract_test.cpp, and the mock's own table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmload {

enum class Api : uint8_t {
  kOpenAiChat,
  kOpenAiCompletions,
  kOllamaChat,
  kOllamaGenerate,
  kAnthropicMessages,
  kOpenAiEmbeddings,
};

// How a response body is framed.
enum class Framing : uint8_t {
  sse,        // text/event-stream: feed an SseParser, classify(event, data) per event
  ndjson,     // one JSON object per line: feed an NdjsonParser, classify("", line) per line
  json_body,  // not streamed: classify("", whole body) once; the body's end is its terminator
};
const char* to_string(Framing f);

// The request-body family: the shape of the JSON an API takes, and so its adapter family.
enum class BodyFamily : uint8_t {
  kOpenAi,     // model + messages|prompt, stream_options, max_tokens (OpenAI-compatible servers)
  kOllama,     // model + messages|prompt, options.{num_predict,temperature}
  kAnthropic,  // model + messages + system, max_tokens required
  kOpenAiEmbeddings,  // model + input (an array of texts: a batch); never streamed
};

// The pre-flight check of a target (DESIGN.md "How a run starts and ends").
struct PreflightProbe {
  // GET path joined to the target's base URL like an endpoint path; empty: TCP/TLS connect only.
  std::string_view path;
  // GET path under the base prefix tried when `path` answers anything but 2xx, 401 or 403
  // (a server without a model list); empty: none.
  std::string_view fallback;
  // The member of a 2xx answer that holds the model list (an array of objects named by "id",
  // "name" or "model").
  std::string_view model_list_key;
};

struct ApiDescriptor {
  Api api;
  std::string_view name;           // as scenarios and --api spell it
  Framing framing;                 // of a streamed response (json_body: the API never streams)
  std::string_view endpoint_path;  // appended to the target's base URL (see join_url_path)
  PreflightProbe preflight;
  BodyFamily body;
  bool chat;  // takes a list of messages (true) or one prompt text (false)
  // Takes a batch of inputs per request (output.batch); false: one prompt per request.
  bool batches = false;
};

// One row per API, in enum order (kApiDescriptors[i].api == Api(i)).
inline constexpr ApiDescriptor kApiDescriptors[] = {
    {.api = Api::kOpenAiChat,
     .name = "openai-chat",
     .framing = Framing::sse,
     .endpoint_path = "/v1/chat/completions",
     .preflight = {.path = "/v1/models", .fallback = "/health", .model_list_key = "data"},
     .body = BodyFamily::kOpenAi,
     .chat = true},
    {.api = Api::kOpenAiCompletions,
     .name = "openai-completions",
     .framing = Framing::sse,
     .endpoint_path = "/v1/completions",
     .preflight = {.path = "/v1/models", .fallback = "/health", .model_list_key = "data"},
     .body = BodyFamily::kOpenAi,
     .chat = false},
    {.api = Api::kOllamaChat,
     .name = "ollama-chat",
     .framing = Framing::ndjson,
     .endpoint_path = "/api/chat",
     .preflight = {.path = "/api/tags", .fallback = "", .model_list_key = "models"},
     .body = BodyFamily::kOllama,
     .chat = true},
    {.api = Api::kOllamaGenerate,
     .name = "ollama-generate",
     .framing = Framing::ndjson,
     .endpoint_path = "/api/generate",
     .preflight = {.path = "/api/tags", .fallback = "", .model_list_key = "models"},
     .body = BodyFamily::kOllama,
     .chat = false},
    {.api = Api::kAnthropicMessages,
     .name = "anthropic-messages",
     .framing = Framing::sse,
     .endpoint_path = "/v1/messages",
     .preflight = {.path = "", .fallback = "", .model_list_key = ""},
     .body = BodyFamily::kAnthropic,
     .chat = true},
    {.api = Api::kOpenAiEmbeddings,
     .name = "openai-embeddings",
     .framing = Framing::json_body,
     .endpoint_path = "/v1/embeddings",
     .preflight = {.path = "/v1/models", .fallback = "/health", .model_list_key = "data"},
     .body = BodyFamily::kOpenAiEmbeddings,
     .chat = false,
     .batches = true},
};

// Every row, in the order above.
std::span<const ApiDescriptor> api_descriptors();
const ApiDescriptor& api_descriptor(Api api);
// The descriptor of the API a scenario or --api names; nullptr when none has that name.
const ApiDescriptor* find_api(std::string_view name);

// Shorthands over the table.
std::string_view api_name(Api api);
std::optional<Api> parse_api(std::string_view name);
bool api_is_chat(Api api);
// Every API's name, in table order.
std::span<const std::string_view> api_names();
// The names joined with `separator`: "openai-chat, openai-completions, ..." for ", ".
std::string api_name_list(std::string_view separator = ", ");

}  // namespace llmload
