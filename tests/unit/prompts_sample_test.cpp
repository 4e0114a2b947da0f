// Sampling: synthetic lengths follow the requested distribution, sampling with and without
// replacement, reproducibility from the seed, prefixes, per-prompt max_tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "common/prompts.h"

namespace llmload {
namespace {

Scenario synthetic(const std::string& prompts_yaml, const std::string& output_yaml = "") {
  auto s = parse_scenario("target: {model: m}\nload: {requests: 1}\nprompts: " + prompts_yaml +
                              "\n" + (output_yaml.empty() ? "" : "output: " + output_yaml + "\n"),
                          "s.yaml", "/tmp");
  EXPECT_TRUE(s.ok()) << s.error();
  return *s;
}

struct Moments {
  double mean = 0, stddev = 0;
  int64_t min = INT64_MAX, max = INT64_MIN;
};

Moments moments(const std::vector<ResolvedPrompt>& ps) {
  Moments m;
  for (const auto& p : ps) {
    m.mean += double(p.input_tokens_estimate);
    m.min = std::min(m.min, p.input_tokens_estimate);
    m.max = std::max(m.max, p.input_tokens_estimate);
  }
  m.mean /= double(ps.size());
  for (const auto& p : ps) m.stddev += std::pow(double(p.input_tokens_estimate) - m.mean, 2);
  m.stddev = std::sqrt(m.stddev / double(ps.size()));
  return m;
}

TEST(SyntheticPrompts, FixedLengthIsExact) {
  auto ps = sample_prompts(synthetic("{input_tokens: 37}"), 100, 1);
  ASSERT_TRUE(ps.ok()) << ps.error();
  for (const auto& p : *ps) {
    EXPECT_EQ(p.input_tokens_estimate, 37);
    EXPECT_EQ(estimate_tokens(p.text), 37);
  }
}

TEST(SyntheticPrompts, UniformMeanAndBounds) {
  auto ps =
      sample_prompts(synthetic("{input_tokens: {dist: uniform, min: 100, max: 300}}"), 5000, 2);
  ASSERT_TRUE(ps.ok());
  const Moments m = moments(*ps);
  EXPECT_NEAR(m.mean, 200, 200 * 0.03);
  EXPECT_NEAR(m.stddev, 200 / std::sqrt(12.0), 57.7 * 0.08);
  EXPECT_GE(m.min, 100);
  EXPECT_LE(m.max, 300);
}

TEST(SyntheticPrompts, NormalMeanAndStddev) {
  auto ps =
      sample_prompts(synthetic("{input_tokens: {dist: normal, mean: 500, stddev: 50}}"), 5000, 3);
  ASSERT_TRUE(ps.ok());
  const Moments m = moments(*ps);
  EXPECT_NEAR(m.mean, 500, 500 * 0.02);
  EXPECT_NEAR(m.stddev, 50, 50 * 0.08);
}

TEST(SyntheticPrompts, LognormalMeanAndStddevAndClamp) {
  auto ps = sample_prompts(synthetic("{input_tokens: {dist: lognormal, mean: 400, stddev: 200}}"),
                           20000, 4);
  ASSERT_TRUE(ps.ok());
  const Moments m = moments(*ps);
  EXPECT_NEAR(m.mean, 400, 400 * 0.04);
  EXPECT_NEAR(m.stddev, 200, 200 * 0.12);
  auto clamped = sample_prompts(
      synthetic("{input_tokens: {dist: lognormal, mean: 400, stddev: 200, min: 300, max: 450}}"),
      2000, 4);
  ASSERT_TRUE(clamped.ok());
  const Moments c = moments(*clamped);
  EXPECT_GE(c.min, 300);
  EXPECT_LE(c.max, 450);
}

TEST(SyntheticPrompts, SameSeedSamePromptsOtherSeedOthers) {
  const Scenario s = synthetic("{input_tokens: {dist: uniform, min: 5, max: 50}}",
                               "{max_tokens: {dist: uniform, min: 1, max: 100}}");
  auto a = sample_prompts(s, 50, 7);
  auto b = sample_prompts(s, 50, 7);
  auto c = sample_prompts(s, 50, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  int differ = 0;
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_EQ((*a)[i].text, (*b)[i].text);
    EXPECT_EQ((*a)[i].max_tokens, (*b)[i].max_tokens);
    EXPECT_EQ((*a)[i].index, int64_t(i));
    differ += (*a)[i].text != (*c)[i].text;
  }
  EXPECT_GT(differ, 40);
}

TEST(SyntheticPrompts, SharedPrefixIsCommonAndCountsInTheLength) {
  auto ps = sample_prompts(synthetic("{input_tokens: 100, shared_prefix_tokens: 40}"), 20, 5);
  ASSERT_TRUE(ps.ok());
  const std::string prefix = (*ps)[0].text.substr(0, (*ps)[0].text.find(' ', 0));
  std::set<std::string> prefixes;
  for (const auto& p : *ps) {
    EXPECT_EQ(p.input_tokens_estimate, 100);
    // The first 40 words are the same in every prompt.
    size_t pos = 0;
    for (int w = 0; w < 40; ++w) pos = p.text.find(' ', pos) + 1;
    prefixes.insert(p.text.substr(0, pos));
  }
  EXPECT_EQ(prefixes.size(), 1u);
}

TEST(SyntheticPrompts, UniquePrefixDiffersPerPrompt) {
  auto ps = sample_prompts(synthetic("{input_tokens: 20, unique_prefix: true}"), 200, 6);
  ASSERT_TRUE(ps.ok());
  std::set<std::string> firsts;
  for (const auto& p : *ps) {
    EXPECT_EQ(p.text.rfind("[request ", 0), 0u) << p.text;
    EXPECT_EQ(p.input_tokens_estimate, 20);
    firsts.insert(p.text.substr(0, p.text.find(']') + 1));
  }
  EXPECT_EQ(firsts.size(), 200u);
}

TEST(SyntheticPrompts, MaxTokensDrawnFromOutputDistribution) {
  auto ps = sample_prompts(
      synthetic("{input_tokens: 5}", "{max_tokens: {dist: normal, mean: 200, stddev: 20}}"), 4000,
      9);
  ASSERT_TRUE(ps.ok());
  double sum = 0;
  for (const auto& p : *ps) {
    ASSERT_TRUE(p.max_tokens.has_value());
    EXPECT_GE(*p.max_tokens, 1);
    sum += double(*p.max_tokens);
  }
  EXPECT_NEAR(sum / 4000, 200, 4);
  auto none = sample_prompts(synthetic("{input_tokens: 5}"), 3, 9);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)[0].max_tokens.has_value());
}

TEST(Sampling, WithReplacementRepeatsWithoutReplacementCoversEachOncePerPass) {
  const auto random = sample_indices(Sampling::kRandom, 10, 10, 1);
  EXPECT_LT(std::set<size_t>(random.begin(), random.end()).size(), 10u);  // birthday: repeats
  const auto shuffle = sample_indices(Sampling::kShuffle, 10, 30, 1);
  ASSERT_EQ(shuffle.size(), 30u);
  for (size_t pass = 0; pass < 3; ++pass) {
    std::set<size_t> seen(shuffle.begin() + pass * 10, shuffle.begin() + pass * 10 + 10);
    EXPECT_EQ(seen.size(), 10u) << "pass " << pass;
  }
  EXPECT_NE(std::vector<size_t>(shuffle.begin(), shuffle.begin() + 10),
            std::vector<size_t>(shuffle.begin() + 10, shuffle.begin() + 20));
  const auto seq = sample_indices(Sampling::kSequential, 3, 7, 1);
  EXPECT_EQ(seq, (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(sample_indices(Sampling::kShuffle, 10, 30, 1), shuffle);  // reproducible
  // Random sampling hits every entry about equally.
  const auto many = sample_indices(Sampling::kRandom, 4, 40000, 2);
  std::vector<int> counts(4);
  for (size_t i : many) ++counts[i];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(InlinePrompts, SampledWithIndicesMaxTokensAndSystem) {
  auto s = parse_scenario(R"(
target: {model: m}
load: {requests: 1}
prompts:
  system: be nice
  sampling: sequential
  items:
    - one two three
    - {text: four, max_tokens: 7}
    - {messages: [{role: user, content: hi there}]}
output: {max_tokens: 50}
)",
                          "s.yaml", "/tmp");
  ASSERT_TRUE(s.ok()) << s.error();
  auto ps = sample_prompts(*s, 4, 1);
  ASSERT_TRUE(ps.ok());
  EXPECT_EQ((*ps)[0].text, "one two three");
  EXPECT_EQ((*ps)[0].input_tokens_estimate, 5);  // system words included
  EXPECT_EQ((*ps)[0].max_tokens, 50);
  EXPECT_EQ((*ps)[1].max_tokens, 7);  // the prompt's own wins
  EXPECT_EQ((*ps)[2].messages.size(), 1u);
  EXPECT_EQ((*ps)[3].source_index, 0);
  EXPECT_EQ((*ps)[3].index, 3);
  const auto msgs = prompt_messages((*ps)[2]);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].role, "system");
  EXPECT_EQ(msgs[1].content, "hi there");
  EXPECT_EQ(prompt_text((*ps)[0]), "be nice\n\none two three");
}

TEST(Conversations, HistoryIsRecordedOrLive) {
  ResolvedPrompt p;
  p.system = "sys";
  p.turns = {{"q1", "r1"}, {"q2", "r2"}, {"q3", ""}};
  auto t0 = conversation_messages(p, 0, nullptr);
  ASSERT_EQ(t0.size(), 2u);
  EXPECT_EQ(t0[1].content, "q1");
  auto t2 = conversation_messages(p, 2, nullptr);
  ASSERT_EQ(t2.size(), 6u);
  EXPECT_EQ(t2[2].content, "r1");
  EXPECT_EQ(t2[4].content, "r2");
  EXPECT_EQ(t2[5].content, "q3");
  const std::vector<std::string> live = {"L1", "L2"};
  auto l2 = conversation_messages(p, 2, &live);
  EXPECT_EQ(l2[2].content, "L1");
  EXPECT_EQ(l2[4].content, "L2");
}

TEST(PromptStats, NearestRankPercentiles) {
  std::vector<ResolvedPrompt> ps(10);
  for (int i = 0; i < 10; ++i) ps[i].input_tokens_estimate = (i + 1) * 10;
  const PromptLengthStats st = prompt_length_stats(ps);
  EXPECT_EQ(st.count, 10u);
  EXPECT_DOUBLE_EQ(st.mean, 55);
  EXPECT_EQ(st.p50, 50);
  EXPECT_EQ(st.p90, 90);
  EXPECT_EQ(st.max, 100);
  EXPECT_EQ(st.min, 10);
}

TEST(Distribution, DescribeAndDeterministicRng) {
  EXPECT_EQ(Distribution::fixed(256).describe(), "fixed 256");
  EXPECT_EQ(Distribution::uniform(64, 512).describe(), "uniform [64, 512]");
  Rng a(123), b(123);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  Rng c(1);
  for (int i = 0; i < 1000; ++i) {
    const double u = c.uniform01();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_LT(c.below(7), 7u);
  }
}

// The prompt list a run ships is bounded whatever the request budget, is a prefix of the same
// seeded sample (deterministic), and holds every entry of a dataset smaller than the cap.
TEST(RunPrompts, CountAndBytesAreCappedAndTheSampleIsAPrefix) {
  Scenario s = synthetic("{input_tokens: 20}");
  // Synthetic prompts are written per request on the worker: the run ships one placeholder.
  s.load.requests = 100'000'000;
  EXPECT_EQ(prompt_count_for_run(s), 1u);
  Scenario listed = s;
  listed.prompts.kind = PromptSourceKind::kInline;
  EXPECT_EQ(prompt_count_for_run(listed), kRunPromptsMax);
  listed.load.requests = 10;
  EXPECT_EQ(prompt_count_for_run(listed), 10u);
  listed.load.requests = 0;
  listed.load.duration_ns = 1'000'000'000;
  EXPECT_EQ(prompt_count_for_run(listed), kRunPromptsMax);
  s.load.requests = 0;
  s.load.duration_ns = 1'000'000'000;

  auto small = sample_prompts(s, 100, 5);
  auto large = sample_prompts(s, kRunPromptsMax, 5);
  ASSERT_TRUE(small.ok() && large.ok());
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ((*small)[i].text, (*large)[i].text) << i;

  std::vector<ResolvedPrompt> ps(10);
  for (auto& p : ps) p.text = std::string(1000, 'x');
  ps[0].system = "sys";
  EXPECT_EQ(prompt_bytes(ps[0]), 1003u);
  EXPECT_EQ(prompts_that_fit(ps, 100, 1 << 20), 10u);
  EXPECT_EQ(prompts_that_fit(ps, 4, 1 << 20), 4u);
  EXPECT_EQ(prompts_that_fit(ps, 100, 3500), 3u);  // 1003 + 1000 + 1000 <= 3500 < 4003
  EXPECT_EQ(prompts_that_fit(ps, 100, 10), 1u);    // one oversized prompt still ships
  EXPECT_EQ(prompts_that_fit({}, 100, 10), 0u);

  // A 300-entry dataset with a budget far beyond the cap: every entry is in the shipped list.
  Scenario d = s;
  d.prompts.kind = PromptSourceKind::kInline;
  d.prompts.items.clear();
  for (int i = 0; i < 300; ++i) {
    InlinePrompt e;
    e.text = "p" + std::to_string(i);
    d.prompts.items.push_back(e);
  }
  d.load.requests = 1'000'000;
  for (Sampling mode : {Sampling::kShuffle, Sampling::kSequential}) {
    d.prompts.sampling = mode;
    auto shipped = sample_prompts(d, prompt_count_for_run(d), 3);
    ASSERT_TRUE(shipped.ok()) << shipped.error();
    EXPECT_EQ(shipped->size(), kRunPromptsMax);
    std::set<int64_t> seen;
    for (const auto& p : *shipped) seen.insert(p.source_index);
    EXPECT_EQ(seen.size(), 300u);
  }
}

}  // namespace
}  // namespace llmload
