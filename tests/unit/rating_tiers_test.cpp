// Tiers everywhere (issue 16 point 4): the scenario's `rating:` sets the tiers; summary.json
// records them (run.rating_tiers) and each group's tier (groups[].rating); summary.md has a
// rating table and JUnit a property per group; a summary without tiers reads as the defaults.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analysis/gates/junit.h"
#include "analysis/gates/summary_md.h"
#include "common/rating.h"
#include "common/results_json.h"
#include "common/scenario.h"
#include "tests/unit/results_test_util.h"

namespace llmload {
namespace {

constexpr const char* kBase =
    "target: {url: mock, api: openai-chat, model: m}\n"
    "load: {concurrency: 1, requests: 1}\n"
    "prompts: {source: inline, items: [{text: hi}]}\n";

Expected<Scenario> parse(const std::string& extra) {
  return parse_scenario(std::string(kBase) + extra, "s.yaml", ".");
}

TEST(RatingTiers, TheScenarioListsTiersBestFirst) {
  auto s = parse(
      "rating:\n"
      "  - {name: snappy, ttft: 200ms, tokens_per_s: 150}\n"
      "  - {name: usable, ttft: 2s, tokens_per_s: 20}\n");
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_EQ(s->rating_tiers.size(), 2u);
  EXPECT_EQ(s->rating_tiers[0], (RatingTier{"snappy", 200, 150}));
  EXPECT_EQ(s->rating_tiers[1], (RatingTier{"usable", 2000, 20}));
  // It goes over the wire (and into run.scenario) with the scenario.
  auto again = scenario_from_json(scenario_to_json(*s, JsonMode::kWire));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->rating_tiers, s->rating_tiers);
}

TEST(RatingTiers, TheTiersTextWorksToo) {
  auto s = parse("rating: 'fast:500ms:80,slow:5s:5'\n");
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_EQ(s->rating_tiers.size(), 2u);
  EXPECT_EQ(s->rating_tiers[1], (RatingTier{"slow", 5000, 5}));
  auto none = parse("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rating_tiers.empty()) << "no rating: the defaults apply";
}

TEST(RatingTiers, BadTiersAreErrorsThatNameTheField) {
  struct Case {
    const char* yaml;
    const char* expect;
  };
  for (const Case& c : {
           Case{"rating: []\n", "rating: expected a list"},
           Case{"rating:\n  - {name: poor, ttft: 1s, tokens_per_s: 1}\n", "rating[0].name"},
           Case{"rating:\n  - {name: a, ttft: 1s, tokens_per_s: 1}\n"
                "  - {name: a, ttft: 2s, tokens_per_s: 1}\n",
                "rating[1].name: 'a' twice"},
           Case{"rating:\n  - {name: a, ttft: soon, tokens_per_s: 1}\n", "rating[0].ttft"},
           Case{"rating:\n  - {name: a, ttft: 1s, tokens_per_s: -3}\n", "rating[0].tokens_per_s"},
           Case{"rating:\n  - {name: a, ttft: 1s, tokens_per_s: 1, colour: red}\n",
                "rating[0]"},
           Case{"rating: 'fast-500ms-80'\n", "rating: rating tier 'fast-500ms-80'"},
       }) {
    auto s = parse(c.yaml);
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_NE(s.error().find(c.expect), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("s.yaml:"), std::string::npos) << s.error();
  }
}

TEST(RatingTiers, SummaryJsonRecordsTheTiersAndEachGroupsRating) {
  RunResult r = testing_util::sample_result();
  ASSERT_FALSE(r.groups.empty());
  // The sample's groups: TTFT p50 ~60 ms, decode ~950 tokens/s.
  r.run.rating_tiers = {{"instant", 1, 5000}, {"quick", 500, 100}};
  const nlohmann::json j = nlohmann::json::parse(summary_to_string(r));
  ASSERT_EQ(j["run"]["rating_tiers"].size(), 2u);
  EXPECT_EQ(j["run"]["rating_tiers"][1]["name"], "quick");
  EXPECT_EQ(j["run"]["rating_tiers"][1]["ttft_ms_below"], 500);
  EXPECT_EQ(j["run"]["rating_tiers"][1]["tokens_per_s_above"], 100);
  for (const auto& g : j["groups"]) EXPECT_EQ(g["rating"], "quick") << g["labels"].dump();
  auto back = parse_summary(summary_to_string(r));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->run.rating_tiers, r.run.rating_tiers);
  EXPECT_EQ(*back, r);

  // Below every tier: poor. No ttft at all: null.
  r.run.rating_tiers = {{"instant", 1, 5000}};
  r.groups.push_back(GroupResult{});
  r.groups.back().stats.labels = {{"model", "silent"}};
  const nlohmann::json p = nlohmann::json::parse(summary_to_string(r));
  EXPECT_EQ(p["groups"][0]["rating"], "poor");
  EXPECT_TRUE(p["groups"].back()["rating"].is_null());
}

TEST(RatingTiers, ASummaryWithoutTiersReadsAsTheDefaultsAndEmptyTiersAreRefused) {
  nlohmann::json j = nlohmann::json::parse(summary_to_string(testing_util::sample_result()));
  j["run"].erase("rating_tiers");
  auto r = summary_from_json(j);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->run.rating_tiers, default_rating_tiers());
  j["run"]["rating_tiers"] = nlohmann::json::array();
  auto bad = summary_from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("run.rating_tiers"), std::string::npos) << bad.error();
  j["run"]["rating_tiers"] = {{{"name", "x"}, {"ttft_ms_below", "fast"}, {"tokens_per_s_above", 1}}};
  bad = summary_from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("run.rating_tiers[0].ttft_ms_below"), std::string::npos)
      << bad.error();
}

TEST(RatingTiers, SummaryMarkdownHasARatingTable) {
  RunResult r = testing_util::sample_result();
  r.run.rating_tiers = {{"quick", 500, 100}};
  const std::string md = analysis::summary_markdown(r, {});
  EXPECT_NE(md.find("### Rating"), std::string::npos) << md;
  EXPECT_NE(md.find("| quick |"), std::string::npos) << md;
}

TEST(RatingTiers, JunitCarriesEachGroupsRatingAsAProperty) {
  const std::string xml = analysis::junit_xml(
      "llmload.slo", {{"ttft.p99 < 2s", true, "measured 1.0 ms"}}, 1.5,
      {{"rating:model=m,target=http://h", "good"}, {"rating:model=\"q\"", "poor"}});
  EXPECT_NE(xml.find("<properties>\n      <property name=\"rating:model=m,target=http://h\" "
                     "value=\"good\"/>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"rating:model=&quot;q&quot;\" value=\"poor\""), std::string::npos)
      << xml;
  EXPECT_LT(xml.find("<properties>"), xml.find("<testcase")) << "properties precede the cases";
  EXPECT_EQ(analysis::junit_xml("s", {}).find("<properties>"), std::string::npos);
}

}  // namespace
}  // namespace llmload
