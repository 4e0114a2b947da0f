// libFuzzer target: every adapter's classify() on arbitrary event data (and the JSON scanner
// under it). Checks: no crash; a malformed result always carries a message; tokens are only
// attributed to token-bearing kinds; the scanner agrees with nlohmann on what is valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "worker/api_adapter.h"
#include "worker/json_scan.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace {
const std::vector<std::unique_ptr<llmload::worker::ApiAdapter>>& adapters() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<llmload::worker::ApiAdapter>>;
    for (std::string_view name : llmload::api_names())
      v->push_back(std::move(llmload::worker::make_adapter(name).value()));
    return v;
  }();
  return *all;
}
constexpr std::string_view kEvents[] = {"",
                                        "error",
                                        "message_start",
                                        "content_block_start",
                                        "content_block_delta",
                                        "message_delta",
                                        "message_stop",
                                        "ping"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view event = kEvents[data[0] % std::size(kEvents)];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  // The scanner accepts exactly what a strict JSON parser accepts (depth within our limit).
  const bool ours = llmload::worker::json_parse_value(text).present();
  bool theirs = nlohmann::json::accept(text);
  // A number beyond double's range ("2e4443") is valid JSON grammar; nlohmann refuses it (its
  // out_of_range error), the scanner rightly accepts it: not a disagreement about JSON.
  bool out_of_range = false;
  if (!theirs) {
    try {
      (void)nlohmann::json::parse(text);
    } catch (const nlohmann::json::out_of_range&) {
      out_of_range = true;
    } catch (const std::exception&) {
    }
  }
  // The scanner does not validate UTF-8 (nlohmann does), and nlohmann stops reading at a NUL:
  // compare only on ASCII input without NULs.
  bool comparable = true;
  for (char c : text) comparable = comparable && c != 0 && static_cast<unsigned char>(c) < 0x80;
  if (ours && !theirs && comparable && !out_of_range) std::abort();
  if (theirs && !ours && comparable) {
    // Only the depth limit may make us refuse valid JSON.
    int depth = 0, max_depth = 0;
    for (char c : text) {
      if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
      if (c == ']' || c == '}') --depth;
    }
    if (max_depth < llmload::worker::kMaxJsonDepth) std::abort();
  }

  for (const auto& a : adapters()) {
    llmload::worker::StreamState state;
    llmload::worker::ChunkInfo info;
    for (int round = 0; round < 2; ++round) {
      const auto st = a->classify(event, text, state, info);
      if (st == llmload::worker::ClassifyStatus::malformed && info.error_message.empty())
        std::abort();
      if (!llmload::worker::is_token_bearing(info.kind) && info.tokens != 0) std::abort();
      if (llmload::worker::is_token_bearing(info.kind) && info.tokens < 1) std::abort();
    }
  }
  return 0;
}
