#include "common/synthetic_text.h"

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

constexpr size_t kWordMax = 8;  // the longest word's bytes

// Each word padded to 8 bytes, so writing one is a fixed 8-byte copy (the padding is then
// overwritten or cut off) and its length.
struct Padded {
  char bytes[64][kWordMax];
  uint8_t len[64];
};
constexpr Padded make_padded() {
  Padded p{};
  for (size_t i = 0; i < 64; ++i) {
    for (size_t j = 0; j < kWords[i].size(); ++j) p.bytes[i][j] = kWords[i][j];
    p.len[i] = uint8_t(kWords[i].size());
  }
  return p;
}
constexpr Padded kPadded = make_padded();

// Writes word `index` (after a space unless it is the first) at `p`; returns the end. Needs
// kWordMax + 1 bytes of room.
inline char* put_word(char* p, bool first, unsigned index) {
  index &= 63;
  *p = ' ';
  p += first ? 0 : 1;
  std::memcpy(p, kPadded.bytes[index], kWordMax);
  return p + kPadded.len[index];
}

}  // namespace

std::span<const std::string_view> synthetic_word_list() { return kWords; }

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

void append_synthetic_tokens(std::string& out, uint64_t key, int64_t tokens) {
  if (tokens <= 0) return;
  // Written in place: room for the longest words, cut to what was written.
  const size_t start = out.size();
  out.resize(start + size_t(tokens) * (kWordMax + 1) + 1);
  char* const begin = out.data() + start;
  char* p = begin;
  int64_t n = 0;
  // The key itself, 6 bits a word: distinct keys differ within the first kKeyWords words.
  for (uint64_t k = key; n < tokens && n < kKeyWords; ++n, k >>= 6)
    p = put_word(p, n == 0, unsigned(k));
  // Then a SplitMix64 stream from the key, ten words a draw.
  uint64_t state = key ^ 0x9e3779b97f4a7c15ULL;
  while (n < tokens) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t r = mix64(state);
    for (int i = 0; i < 10 && n < tokens; ++i, ++n, r >>= 6) p = put_word(p, n == 0, unsigned(r));
  }
  out.resize(start + size_t(p - begin));
}

size_t write_unique_tag(char* out, uint64_t key) {
  const int n =
      std::snprintf(out, kUniqueTagMax, "[request %016llx]", static_cast<unsigned long long>(key));
  return n > 0 ? size_t(n) : 0;
}

}  // namespace llmload
