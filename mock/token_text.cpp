#include "mock/token_text.h"

#include "mock/distributions.h"

namespace llmload::mock {

namespace {
constexpr char kConsonants[] = "bdfghjklmnprstvz";  // 16
constexpr char kVowels[] = "aeiou";                 // 5
}  // namespace

TokenText::TokenText(uint64_t seed) : seed_(seed) {
  Rng rng(mix64(seed, 0x746f6b656e));
  offsets_.reserve(kWords + 1);
  for (int w = 0; w < kWords; ++w) {
    offsets_.push_back(uint32_t(storage_.size()));
    storage_.push_back(' ');
    int syllables = 2 + int(rng.next() % 3);
    for (int s = 0; s < syllables; ++s) {
      uint64_t r = rng.next();
      storage_.push_back(kConsonants[r % 16]);
      storage_.push_back(kVowels[(r >> 8) % 5]);
    }
    size_t len = storage_.size() - offsets_.back();
    if (len > max_len_) max_len_ = len;
  }
  offsets_.push_back(uint32_t(storage_.size()));
}

std::string_view TokenText::word(uint64_t stream_key, uint64_t index) const {
  uint64_t h = mix64(mix64(seed_, stream_key), index) % kWords;
  return {storage_.data() + offsets_[h], size_t(offsets_[h + 1] - offsets_[h])};
}

}  // namespace llmload::mock
