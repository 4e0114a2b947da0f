// Synthetic text generated per request: deterministic per key, distinct from the first words
// for distinct keys, the asked length in words, JSON-safe, and request keys distinct per request.
#include "common/synthetic_text.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/prompts.h"

namespace llmload {
namespace {

std::string text(uint64_t key, int64_t n) {
  std::string s;
  append_synthetic_tokens(s, key, n);
  return s;
}

std::string first_words(const std::string& s, int n) {
  size_t pos = 0;
  for (int i = 0; i < n && pos != std::string::npos; ++i) {
    pos = s.find(' ', pos == 0 && i == 0 ? 0 : pos + 1);
  }
  return pos == std::string::npos ? s : s.substr(0, pos);
}

TEST(SyntheticText, SameKeySameTextAndAskedLength) {
  for (int64_t n : {0, 1, 5, 11, 12, 1000}) {
    const std::string a = text(42, n);
    EXPECT_EQ(a, text(42, n));
    EXPECT_EQ(estimate_tokens(a), n) << n;
    EXPECT_TRUE(a.empty() || (a.front() != ' ' && a.back() != ' '));
    for (char c : a) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == ' ') << int(c);
  }
}

TEST(SyntheticText, ShorterIsAPrefixOfLonger) {
  const std::string longer = text(7, 600);
  for (int64_t n : {1, 10, 11, 12, 512}) {
    const std::string shorter = text(7, n);
    EXPECT_EQ(longer.compare(0, shorter.size(), shorter), 0) << n;
  }
}

TEST(SyntheticText, DistinctKeysDifferWithinTheFirstElevenWords) {
  std::set<std::string> firsts;
  for (int64_t seq = 0; seq < 20000; ++seq) {
    const std::string t = text(request_key(1, seq % 3, seq), 40);
    firsts.insert(first_words(t, int(kKeyWords)));
  }
  EXPECT_EQ(firsts.size(), 20000u);
}

TEST(SyntheticText, RequestKeysAreDistinctPerLoopAndSequenceAndFollowTheSeed) {
  std::set<uint64_t> keys;
  for (int64_t loop = 0; loop < 8; ++loop)
    for (int64_t seq = 0; seq < 5000; ++seq) keys.insert(request_key(9, loop, seq));
  EXPECT_EQ(keys.size(), 40000u);
  EXPECT_NE(request_key(1, 0, 0), request_key(2, 0, 0));
  EXPECT_EQ(request_key(3, 1, 2), request_key(3, 1, 2));
}

TEST(SyntheticText, UniqueTagIsShortAsciiAndKeyed) {
  char a[kUniqueTagMax];
  char b[kUniqueTagMax];
  const size_t na = write_unique_tag(a, 1);
  const size_t nb = write_unique_tag(b, 2);
  EXPECT_EQ(std::string(a, na), "[request 0000000000000001]");
  EXPECT_NE(std::string(a, na), std::string(b, nb));
}

}  // namespace
}  // namespace llmload
