#include "common/token_words.h"

#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace llmload {

namespace {

bool lowercase_word(std::string_view w) {
  if (w.size() < 3 || w.size() > SyntheticWords::kWordMax) return false;
  for (char c : w)
    if (c < 'a' || c > 'z') return false;
  return true;
}

// Whether `w` is one token to `tok` as "w" and as " w".
bool one_token(const Tokenizer& tok, std::string_view w) {
  std::string spaced = " ";
  spaced.append(w);
  return tok.count(spaced) == 1 && tok.count(w) == 1;
}

Expected<std::shared_ptr<const SyntheticWords>> build(const Tokenizer& tok,
                                                      const std::string& path) {
  std::vector<std::string> words;
  auto take = [&](std::string_view w) {
    if (words.size() >= SyntheticWords::kCount || !lowercase_word(w)) return;
    for (const std::string& have : words)
      if (have == w) return;
    if (one_token(tok, w)) words.emplace_back(w);
  };
  for (std::string_view w : synthetic_word_list()) take(w);
  for (uint32_t id = 0; id < tok.vocab_size() && words.size() < SyntheticWords::kCount; ++id) {
    const std::string piece = tok.decode({id});
    if (piece.size() > 3 && piece[0] == ' ') take(std::string_view(piece).substr(1));
  }
  const std::string who = "tokenizer '" + path + "'";
  if (words.size() < SyntheticWords::kCount)
    return Error{who + ": only " + std::to_string(words.size()) +
                 " lowercase ASCII words are one token each, with and without a leading space; "
                 "synthetic prompts exact in its tokens need " +
                 std::to_string(SyntheticWords::kCount)};
  const std::vector<std::string_view> views(words.begin(), words.end());
  auto table = std::make_shared<const SyntheticWords>(views);
  // Every ordered pair of words side by side (the first word at the text's start too), then a
  // long sample as prompts are written: one token a word, or the tokenizer merges across words.
  std::string pairs;
  for (size_t i = 0; i < words.size(); ++i) {
    for (size_t j = 0; j < words.size(); ++j) {
      const std::string pair = words[i] + " " + words[j];
      if (tok.count(pair) != 2 || tok.count(" " + pair) != 2)
        return Error{who + ": the words '" + words[i] + "' and '" + words[j] +
                     "', one token each, are not two tokens side by side; synthetic prompts "
                     "exact in its tokens need words that do not merge"};
    }
  }
  std::string sample;
  const int64_t n = 20000;
  append_synthetic_tokens(sample, 0x746f6b656e73ULL, n, *table);
  if (const size_t got = tok.count(sample); got != size_t(n))
    return Error{who + ": a text of " + std::to_string(n) + " one-token words encodes to " +
                 std::to_string(got) +
                 " tokens; synthetic prompts exact in its tokens need "
                 "words that do not merge"};
  return std::shared_ptr<const SyntheticWords>(std::move(table));
}

}  // namespace

Expected<std::shared_ptr<const SyntheticWords>> single_token_words(
    const std::shared_ptr<const Tokenizer>& tok, const std::string& path) {
  // Keyed by the tokenizer object (shared_tokenizer gives one per path); an entry whose
  // tokenizer is gone is rebuilt, never reused for another at the same address.
  struct Entry {
    std::weak_ptr<const Tokenizer> tok;
    std::shared_ptr<const SyntheticWords> words;
  };
  static std::mutex mu;
  static std::map<const Tokenizer*, Entry> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(tok.get());
  if (it != cache.end() && it->second.tok.lock() == tok) return it->second.words;
  auto built = build(*tok, path);
  if (!built) return built;
  cache[tok.get()] = Entry{tok, *built};
  return built;
}

}  // namespace llmload
