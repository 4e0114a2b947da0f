// What openai-chat and openai-completions share: the request body's streaming options and the
// chunk envelope ([DONE], error payloads, id, usage, llama.cpp timings, choices[0]).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "worker/api_adapter.h"
#include "worker/json_scan.h"

namespace llmload::worker::adapters {

// model, stream, stream_options, max_tokens, temperature, ignore_eos.
void add_openai_options(nlohmann::json& body, const RequestOptions& options);

// Classifies choices[0] of a chunk (delta / message / text): sets out.kind, and out.final for a
// non-streamed `message`. Returns false when its shape is malformed.
using ChoiceClassifier = bool (*)(const JsonSlice& choice, ChunkInfo& out);

// The whole OpenAI-style classification, with the API's own choice classifier.
ClassifyStatus classify_openai(std::string_view event_name, std::string_view data,
                               StreamState& state, ChunkInfo& out, ChoiceClassifier choice);

}  // namespace llmload::worker::adapters
