// Prompt lengths in true tokens when the scenario names a tokenizer (prompts.h).
#include <algorithm>

#include "common/prompts.h"

namespace llmload {

namespace {

// The vocabulary's words as appended pieces (" word", or "word" at the start) with their
// token counts.
struct Piece {
  std::string text;
  int64_t tokens;
};

// Short words only used to fill the last few tokens when no vocabulary word fits.
constexpr std::string_view kFillers[] = {"a", "I", "x", "o"};

std::vector<Piece> pieces_for(const Tokenizer& tok, bool leading_space, bool fillers = false) {
  std::vector<Piece> out;
  std::vector<std::string_view> words(std::begin(kFillers), std::end(kFillers));
  if (!fillers) words = synthetic_vocabulary();
  for (std::string_view w : words) {
    std::string s = leading_space ? " " : "";
    s.append(w);
    const auto n = static_cast<int64_t>(tok.count(s));
    out.push_back({std::move(s), n});
  }
  return out;
}

}  // namespace

std::string fill_to_tokens(Rng& rng, std::string text, int64_t tokens, const Tokenizer& tok) {
  const std::vector<Piece> spaced = pieces_for(tok, true);
  const std::vector<Piece> first = pieces_for(tok, false);
  const std::vector<Piece> spaced_fill = pieces_for(tok, true, true);
  const std::vector<Piece> first_fill = pieces_for(tok, false, true);
  int64_t n = static_cast<int64_t>(tok.count(text));
  size_t added = 0;
  // Appends a random word, or (when that would overshoot) the first that fits; false when
  // none fits.
  auto append = [&](bool must) {
    const std::vector<Piece>& from = text.empty() ? first : spaced;
    const Piece* p = &from[rng.below(from.size())];
    if (!must && n + p->tokens > tokens) {
      p = nullptr;
      for (const Piece& c : from)
        if (n + c.tokens <= tokens && (!p || c.tokens > p->tokens)) p = &c;
      for (const Piece& c : text.empty() ? first_fill : spaced_fill)
        if (!p && n + c.tokens <= tokens) p = &c;
      if (!p) return false;
    }
    text += p->text;
    n += p->tokens;
    ++added;
    return true;
  };
  if (n >= tokens) {
    append(true);
    return text;
  }
  while (n < tokens && append(false)) {
  }
  // The sum is exact for byte-level split patterns; check the whole and mend from the end if
  // a tokenizer merged across a word boundary (bounded: a few passes).
  for (int pass = 0; pass < 8; ++pass) {
    n = static_cast<int64_t>(tok.count(text));
    if (n == tokens) break;
    if (n > tokens) {
      const size_t cut = text.rfind(' ');
      if (added <= 1 || cut == std::string::npos) break;
      text.resize(cut);
      --added;
    } else if (!append(false)) {
      break;
    }
  }
  return text;
}

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
