#include <gtest/gtest.h>

#include <cmath>

#include "mock/distributions.h"

using llmload::mock::Rng;
using llmload::mock::TokenDistribution;

TEST(MockDistributions, ParsesEveryForm) {
  auto f = TokenDistribution::parse("64");
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->kind, TokenDistribution::Kind::kFixed);
  Rng rng(1);
  EXPECT_EQ(f->sample(rng), 64);
  EXPECT_TRUE(TokenDistribution::parse("uniform:10:100").ok());
  EXPECT_TRUE(TokenDistribution::parse("normal:200:50").ok());
  EXPECT_TRUE(TokenDistribution::parse("exp:100").ok());
  EXPECT_TRUE(TokenDistribution::parse("lognormal:100:0.5").ok());
  EXPECT_EQ(TokenDistribution::parse("uniform:10:100")->to_string(), "uniform:10:100");
}

TEST(MockDistributions, RejectsBadTextNamingIt) {
  for (const char* bad : {"", "0", "-3", "1.5", "abc", "uniform:10", "uniform:100:10", "normal:x:1",
                          "exp:0", "poisson:3", "lognormal:10"}) {
    auto d = TokenDistribution::parse(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.error().find(std::string("'") + bad + "'"), std::string::npos) << d.error();
  }
}

TEST(MockDistributions, UniformStaysInRangeAndCoversIt) {
  auto d = TokenDistribution::parse("uniform:10:20").value();
  Rng rng(5);
  int seen[21] = {};
  for (int i = 0; i < 5000; ++i) {
    int v = d.sample(rng);
    ASSERT_GE(v, 10);
    ASSERT_LE(v, 20);
    ++seen[v];
  }
  for (int v = 10; v <= 20; ++v) EXPECT_GT(seen[v], 300) << v;
}

TEST(MockDistributions, MeansMatch) {
  Rng rng(9);
  auto normal = TokenDistribution::parse("normal:200:20").value();
  auto exp = TokenDistribution::parse("exp:100").value();
  auto logn = TokenDistribution::parse("lognormal:100:0.3").value();
  double sn = 0, se = 0;
  std::vector<int> ln;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    sn += normal.sample(rng);
    se += exp.sample(rng);
    ln.push_back(logn.sample(rng));
  }
  EXPECT_NEAR(sn / n, 200, 2);
  EXPECT_NEAR(se / n, 100, 4);
  std::nth_element(ln.begin(), ln.begin() + n / 2, ln.end());
  EXPECT_NEAR(ln[n / 2], 100, 3);
}

TEST(MockDistributions, SamplesAreAtLeastOneAndReproducible) {
  auto d = TokenDistribution::parse("normal:2:50").value();
  Rng a(42), b(42);
  for (int i = 0; i < 1000; ++i) {
    int x = d.sample(a);
    EXPECT_GE(x, 1);
    EXPECT_EQ(x, d.sample(b));
  }
}
