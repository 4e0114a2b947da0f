// What ollama-chat and ollama-generate share: the body's options object and the NDJSON line
// envelope (error, done, usage counts and durations of the final object).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "worker/api_adapter.h"
#include "worker/json_scan.h"

namespace llmload::worker::adapters {

// model, stream, options {num_predict, temperature}.
void add_ollama_options(nlohmann::json& body, const RequestOptions& options);

// Classifies one line. `chat` selects where the text is: message.{content,thinking,tool_calls}
// (chat) or response / thinking (generate).
ClassifyStatus classify_ollama(std::string_view data, StreamState& state, ChunkInfo& out,
                               bool chat);

}  // namespace llmload::worker::adapters
