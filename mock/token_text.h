// Deterministic token text: token i of stream k under seed s is always the same word, a space
// followed by 2 to 4 lowercase syllables (" kobanu"), so splitting the text on whitespace
// counts tokens exactly and no word needs JSON escaping.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace llmload::mock {

class TokenText {
 public:
  static constexpr int kWords = 4096;
  explicit TokenText(uint64_t seed);
  // The word (with its leading space) for token `index` of stream `stream_key`.
  std::string_view word(uint64_t stream_key, uint64_t index) const;
  // Longest word, leading space included.
  size_t max_word_bytes() const { return max_len_; }

 private:
  uint64_t seed_;
  std::vector<char> storage_;      // every word back to back
  std::vector<uint32_t> offsets_;  // kWords + 1 offsets into storage_
  size_t max_len_ = 0;
};

}  // namespace llmload::mock
