#include <gtest/gtest.h>

#include <map>

#include "mock/faults.h"

using namespace llmload::mock;

TEST(MockFaults, NamesRoundTrip) {
  for (Fault f : all_faults()) {
    auto p = parse_fault(fault_name(f));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, f);
  }
  EXPECT_EQ(all_faults().size(), 13u);
  auto none = parse_fault("none");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, Fault::kNone);
}

TEST(MockFaults, UnknownNameListsValidOnes) {
  auto p = parse_fault("explode");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("'explode'"), std::string::npos);
  EXPECT_NE(p.error().find("stall_mid"), std::string::npos);
}

TEST(MockFaults, ZeroRateNeverFaults) {
  FaultPlan plan;
  Rng rng(1);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(plan.pick(rng), Fault::kNone);
}

TEST(MockFaults, RateIsHonouredAndKindsAreUniform) {
  FaultPlan plan;
  plan.rate = 0.25;
  ASSERT_TRUE(plan.set_kinds("reset,truncated,http429").ok());
  Rng rng(3);
  std::map<Fault, int> seen;
  const int n = 40000;
  for (int i = 0; i < n; ++i) ++seen[plan.pick(rng)];
  EXPECT_NEAR(double(seen[Fault::kNone]) / n, 0.75, 0.01);
  for (Fault f : {Fault::kReset, Fault::kTruncated, Fault::kHttp429})
    EXPECT_NEAR(double(seen[f]) / n, 0.25 / 3, 0.01) << fault_name(f);
  EXPECT_EQ(seen.size(), 4u);
}

TEST(MockFaults, RateOneAlwaysFaultsFromAllByDefault) {
  FaultPlan plan;
  plan.rate = 1;
  Rng rng(8);
  std::map<Fault, int> seen;
  for (int i = 0; i < 13000; ++i) ++seen[plan.pick(rng)];
  EXPECT_EQ(seen.count(Fault::kNone), 0u);
  EXPECT_EQ(seen.size(), all_faults().size());
}

TEST(MockFaults, SameSeedSameChoices) {
  FaultPlan plan;
  plan.rate = 0.5;
  Rng a(77), b(77);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(plan.pick(a), plan.pick(b));
}

TEST(MockFaults, BadKindListNamesTheEntry) {
  FaultPlan plan;
  auto r = plan.set_kinds("reset,bogus");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("'bogus'"), std::string::npos);
}
