// Prompt lengths in true tokens when the scenario names a tokenizer (prompts.h).
#include "common/prompts.h"

namespace llmload {

int64_t prompt_tokens(const ResolvedPrompt& p, const Tokenizer* tok) {
  auto count = [&](std::string_view s) {
    return tok ? static_cast<int64_t>(tok->count(s)) : estimate_tokens(s);
  };
  int64_t n = count(p.system);
  if (!p.turns.empty()) return n + count(p.turns.front().user);
  if (!p.messages.empty()) {
    for (const Message& m : p.messages) n += count(m.content);
    return n;
  }
  return n + count(p.text);
}

}  // namespace llmload
