#include "common/synthetic_text.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>

namespace llmload {

namespace {

// 64 words (6 bits each), so one 64-bit draw picks ten words without division.
constexpr std::string_view kWords[64] = {
    "time",     "person",  "year",     "way",    "day",    "thing",   "man",     "world",
    "life",     "hand",    "part",     "child",  "eye",    "woman",   "place",   "work",
    "week",     "case",    "point",    "number", "group",  "problem", "fact",    "water",
    "river",    "stone",   "light",    "house",  "garden", "market",  "system",  "answer",
    "question", "story",   "city",     "road",   "window", "paper",   "music",   "table",
    "bright",   "quiet",   "simple",   "early",  "large",  "small",   "green",   "heavy",
    "write",    "explain", "describe", "build",  "carry",  "listen",  "measure", "follow",
    "under",    "between", "across",   "after",  "before", "around",  "through", "without"};

}  // namespace

std::span<const std::string_view> synthetic_word_list() {
  return kWords;
}

uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t request_key(uint64_t seed, int64_t loop, int64_t sequence) {
  const uint64_t id = (uint64_t(loop) << 40) ^ (uint64_t(sequence) & ((uint64_t{1} << 40) - 1));
  // mix64 is a bijection and so is xor with a constant: distinct ids give distinct keys.
  return mix64(id ^ mix64(seed ^ 0x73796e746865ULL));
}

SyntheticWords::SyntheticWords(std::span<const std::string_view> words) {
  assert(words.size() == kCount);
  for (size_t i = 0; i < kCount && i < words.size(); ++i) {
    assert(!words[i].empty() && words[i].size() <= kWordMax);
    const size_t n = std::min(words[i].size(), kWordMax);
    std::memcpy(bytes_[i], words[i].data(), n);
    len_[i] = uint8_t(n);
    longest_ = std::max(longest_, n);
  }
}

const SyntheticWords& SyntheticWords::standard() {
  static const SyntheticWords w(kWords);
  return w;
}

char* SyntheticWords::put(char* p, bool first, unsigned index) const {
  index &= kCount - 1;
  *p = ' ';
  p += first ? 0 : 1;
  std::memcpy(p, bytes_[index], kWordMax + 1);
  return p + len_[index];
}

void append_synthetic_tokens(std::string& out, uint64_t key, int64_t tokens,
                             const SyntheticWords& words) {
  if (tokens <= 0) return;
  // Written in place: room for the longest words (and the last word's padded copy), cut to
  // what was written.
  const size_t start = out.size();
  out.resize(start + size_t(tokens) * (words.longest() + 1) + SyntheticWords::kWordMax + 2);
  char* const begin = out.data() + start;
  char* p = begin;
  int64_t n = 0;
  // The key itself, 6 bits a word: distinct keys differ within the first kKeyWords words.
  for (uint64_t k = key; n < tokens && n < kKeyWords; ++n, k >>= 6)
    p = words.put(p, n == 0, unsigned(k));
  // Then a SplitMix64 stream from the key, ten words a draw.
  uint64_t state = key ^ 0x9e3779b97f4a7c15ULL;
  while (n < tokens) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t r = mix64(state);
    for (int i = 0; i < 10 && n < tokens; ++i, ++n, r >>= 6) p = words.put(p, n == 0, unsigned(r));
  }
  out.resize(start + size_t(p - begin));
}

size_t write_unique_tag(char* out, uint64_t key) {
  const int n =
      std::snprintf(out, kUniqueTagMax, "[request %016llx]", static_cast<unsigned long long>(key));
  return n > 0 ? size_t(n) : 0;
}

}  // namespace llmload
