// libFuzzer target: arbitrary bytes as a scenario file and as an assertion expression. Nothing
// may crash or hang; a scenario that parses must survive the JSON round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/scenario.h"
#include "common/slo_expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)llmload::parse_slo_expr(text);
  auto s = llmload::parse_scenario(text, "fuzz.yaml", "/nonexistent-fuzz-dir");
  if (!s.ok()) return 0;
  const nlohmann::json wire = llmload::scenario_to_json(*s, llmload::JsonMode::kWire);
  auto back = llmload::scenario_from_json(wire);
  // The JSON form of a valid scenario must read back. Known gap: the YAML reader does not yet
  // refuse strings that are not UTF-8; such a scenario is refused on the way back (an error,
  // never a crash), so the round trip is checked on UTF-8 input only.
  if (!back.ok() && back.error().find("not valid UTF-8") != std::string::npos) return 0;
  if (!back.ok()) std::abort();
  if (llmload::scenario_to_json(*back, llmload::JsonMode::kWire) != wire) std::abort();
  if (s->prompts.kind == llmload::PromptSourceKind::kSynthetic ||
      s->prompts.kind == llmload::PromptSourceKind::kInline) {
    // Keep lengths small: the fuzzer must not spend its time generating words.
    if (s->prompts.input_tokens.expected_mean() < 5000 && s->prompts.shared_prefix_tokens < 5000) {
      (void)llmload::sample_prompts(*s, 4, 1);
    }
  }
  return 0;
}
