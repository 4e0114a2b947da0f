#include <gtest/gtest.h>

#include <set>
#include <string>

#include "mock/token_text.h"

using llmload::mock::TokenText;

TEST(MockTokenText, SameSeedSameWords) {
  TokenText a(7), b(7);
  for (uint64_t k = 0; k < 5; ++k)
    for (uint64_t i = 0; i < 200; ++i) EXPECT_EQ(a.word(k, i), b.word(k, i));
}

TEST(MockTokenText, DifferentSeedsDiffer) {
  TokenText a(1), b(2);
  int same = 0;
  for (uint64_t i = 0; i < 200; ++i) same += a.word(0, i) == b.word(0, i);
  EXPECT_LT(same, 20);
}

TEST(MockTokenText, EveryWordIsOneSpacePrefixedLowercaseWord) {
  TokenText t(3);
  std::set<std::string> distinct;
  for (uint64_t i = 0; i < 5000; ++i) {
    std::string_view w = t.word(9, i);
    ASSERT_GE(w.size(), 5u);
    ASSERT_LE(w.size(), t.max_word_bytes());
    EXPECT_EQ(w[0], ' ');
    for (size_t j = 1; j < w.size(); ++j) EXPECT_TRUE(w[j] >= 'a' && w[j] <= 'z') << w;
    distinct.insert(std::string(w));
  }
  EXPECT_GT(distinct.size(), 1000u);
}

TEST(MockTokenText, WhitespaceSplitCountsTokens) {
  TokenText t(11);
  std::string text;
  for (int i = 0; i < 137; ++i) text += t.word(4, uint64_t(i));
  int words = 0;
  bool in = false;
  for (char c : text) {
    if (c != ' ' && !in) ++words;
    in = c != ' ';
  }
  EXPECT_EQ(words, 137);
}
