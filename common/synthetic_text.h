// Synthetic prompt text, generated where it is sent (on the worker, per request), so that a run
// of any length sends distinct prompts from bounded memory (docs/scenarios.md "Synthetic
// prompts", DESIGN.md "Prompts on the worker").
//
// Every piece of text is a pure function of a 64-bit key: the same key gives the same bytes on
// every machine, different keys give different text from the very first words (the first
// kKeyWords words spell the key itself, 6 bits a word), so two requests with different keys
// never share a cacheable prefix. Keys of requests come from request_key(), a bijection of
// (run seed, run loop, sequence): distinct requests of a run get distinct keys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace llmload {

// The words that spell a key: ceil(64 / 6).
inline constexpr int64_t kKeyWords = 11;

// The 64 words synthetic text is made of (common/prompts_sample.cpp draws from them too).
std::span<const std::string_view> synthetic_word_list();

// A table of 64 words (6 bits a word) that synthetic text is written from, each kept padded so
// writing one is a fixed-size copy. standard() is synthetic_word_list() (a word ≈ a token);
// with prompts.tokenizer, single_token_words() (common/token_words.h) builds one whose every
// word is exactly one token of that tokenizer.
class SyntheticWords {
 public:
  static constexpr size_t kCount = 64;
  static constexpr size_t kWordMax = 15;  // the longest word's bytes
  // `words`: kCount words of 1..kWordMax bytes each (asserted), ASCII letters only.
  explicit SyntheticWords(std::span<const std::string_view> words);
  static const SyntheticWords& standard();
  std::string_view word(size_t i) const { return {bytes_[i], len_[i]}; }
  // The longest word's bytes.
  size_t longest() const { return longest_; }
  // Writes word `index & 63` (after a space unless `first`) at `p`; returns the end. Needs
  // kWordMax + 2 bytes of room (it copies the padded word whole).
  char* put(char* p, bool first, unsigned index) const;

 private:
  char bytes_[kCount][kWordMax + 1] = {};
  uint8_t len_[kCount] = {};
  size_t longest_ = 0;
};

// "Make N tokens of text": appends `tokens` tokens of text generated from `key` to `out`
// (words of `words` separated by one space, none before the first). With the standard table a
// token is counted as a word (the estimate llmload uses everywhere); with a tokenizer's table
// each word is one true token. Only ASCII letters and spaces: the text needs no escaping in
// JSON. The first min(tokens, kKeyWords) words spell the key; the text of a smaller `tokens` is
// a prefix of the text of a larger one with the same key (so a block cut short still shares its
// prefix).
void append_synthetic_tokens(std::string& out, uint64_t key, int64_t tokens,
                             const SyntheticWords& words = SyntheticWords::standard());

// The key of request `sequence` of run loop `loop` (0-based, LoopShare::index) in a run seeded
// `seed`: a bijection of (loop, sequence) for a fixed seed, loop < 2^24 and sequence < 2^40.
uint64_t request_key(uint64_t seed, int64_t loop, int64_t sequence);

// A well-mixed 64-bit bijection (the SplitMix64 finaliser): derives independent keys.
uint64_t mix64(uint64_t x);

// The tag put before a prompt with `unique_prefix`: "[request <key in hex>]" (ASCII, no escaping
// needed), written into `out`; returns the bytes written (at most kUniqueTagMax).
inline constexpr size_t kUniqueTagMax = 32;
size_t write_unique_tag(char* out, uint64_t key);

}  // namespace llmload
