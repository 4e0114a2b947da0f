// Metrics per key: prompt rows carry labels (task, agent, ...), `group_by:` says which labels
// split results, and every layer (parse, dataset, sampling, wire, run plan) keeps them.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/prompts.h"
#include "common/scenario.h"
#include "common/wire.h"
#include "worker/run_plan.h"

namespace llmload {
namespace {

const std::string kDir = std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/scenarios/datasets/";

Scenario parse_ok(const std::string& text) {
  auto s = parse_scenario(text, "s.yaml", kDir);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
  return s.ok() ? s.value() : Scenario{};
}

std::string parse_error(const std::string& text) {
  auto s = parse_scenario(text, "s.yaml", kDir);
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : s.error();
}

constexpr const char* kTwoTargets = R"(
targets:
  - {name: a, url: "http://127.0.0.1:9", model: m1}
  - {name: b, url: "http://127.0.0.1:9", model: m2}
load: {concurrency: 1, requests: 10}
tags: {team: search}
)";

TEST(GroupBy, ParsesAndRoundTripsThroughJson) {
  Scenario s = parse_ok(std::string(kTwoTargets) + R"(
group_by: [model, task]
prompts:
  source: inline
  items:
    - {text: plan the trip, labels: {task: plan, agent: planner}}
    - write a poem
)");
  ASSERT_TRUE(s.group_by.has_value());
  EXPECT_EQ(*s.group_by, (std::vector<std::string>{"model", "task"}));
  ASSERT_EQ(s.prompts.items.size(), 2u);
  EXPECT_EQ(s.prompts.items[0].labels, (Labels{{"agent", "planner"}, {"task", "plan"}}));
  EXPECT_TRUE(s.prompts.items[1].labels.empty());

  auto back = scenario_from_json(scenario_to_json(s, JsonMode::kWire));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->group_by, s.group_by);
  EXPECT_EQ(back->prompts.items[0].labels, s.prompts.items[0].labels);
}

TEST(GroupBy, AbsentMeansEveryLabelAndAnEmptyListOnlyTheTags) {
  Scenario s = parse_ok(kTwoTargets);
  EXPECT_FALSE(s.group_by.has_value());
  EXPECT_TRUE(groups_by(s, "target"));
  EXPECT_TRUE(groups_by(s, "anything"));
  EXPECT_EQ(group_labels(s, s.targets[0], s.targets[0].models[0], {{"task", "x"}}),
            (Labels{{"model", "m1"}, {"target", "a"}, {"task", "x"}, {"team", "search"}}));

  Scenario none = parse_ok(std::string(kTwoTargets) + "group_by: []\n");
  EXPECT_EQ(group_labels(none, none.targets[1], none.targets[1].models[0]),
            (Labels{{"team", "search"}}));
  // Both targets fall in one group.
  EXPECT_EQ(scenario_group_labels(none).size(), 1u);
  EXPECT_EQ(scenario_group_labels(s).size(), 2u);
}

TEST(GroupBy, BadInputNamesTheField) {
  EXPECT_NE(parse_error(std::string(kTwoTargets) + "group_by: model\n")
                .find("group_by: expected a list of label names"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kTwoTargets) + "group_by: [model, model]\n")
                .find("group_by[1]: 'model' twice"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kTwoTargets) + "group_by: [\"ta sk\"]\n")
                .find("group_by[0]: label name may hold only letters, digits and '_'"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kTwoTargets) + R"(
prompts: {source: inline, items: [{text: x, labels: {model: y}}]}
)")
                .find("prompts.items[0].labels: label 'model': reserved label"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kTwoTargets) + R"(
prompts: {source: inline, items: [{text: x, labels: [task]}]}
)")
                .find("prompts.items[0].labels: expected a map of label → value"),
            std::string::npos);
  // Cost is per model: a grouping without model could not be priced.
  EXPECT_NE(parse_error(std::string(kTwoTargets) + R"(
group_by: [target]
pricing: {m1: {input_per_mtok: 1, output_per_mtok: 2}}
)")
                .find("group_by: pricing is per model"),
            std::string::npos);
}

TEST(GroupBy, DatasetRowsCarryLabels) {
  PromptSource src;
  src.kind = PromptSourceKind::kJsonl;
  src.file = kDir + "labelled.jsonl";
  auto e = load_prompt_entries(src);
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_EQ(e->size(), 4u);
  EXPECT_EQ((*e)[0].labels, (Labels{{"agent", "planner"}, {"task", "summarize"}}));
  EXPECT_EQ((*e)[2].labels, (Labels{{"agent", "planner"}, {"task", "math"}}));
  EXPECT_TRUE((*e)[3].labels.empty());

  src.kind = PromptSourceKind::kConversations;
  src.file = kDir + "labelled_conversations.jsonl";
  auto c = load_prompt_entries(src);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].labels, (Labels{{"agent", "greeter"}}));
  EXPECT_EQ((*c)[1].labels, (Labels{{"agent", "answerer"}}));
}

TEST(GroupBy, BadRowLabelsNameFileAndLine) {
  auto expect_error = [](const std::string& file, const std::string& what) {
    PromptSource src;
    src.kind = PromptSourceKind::kJsonl;
    src.file = kDir + file;
    auto e = load_prompt_entries(src);
    ASSERT_FALSE(e.ok()) << file;
    EXPECT_EQ(e.error(), kDir + what);
  };
  expect_error("bad_labels.jsonl", "bad_labels.jsonl:2: \"labels\".task: expected a string");
  expect_error("bad_label_name.jsonl",
               "bad_label_name.jsonl:1: \"labels\": label 'model': reserved label (results are "
               "grouped by it)");
  expect_error("bad_labels_shape.jsonl",
               "bad_labels_shape.jsonl:1: \"labels\" must be an object of label → string");

  Labels many;
  for (int i = 0; i < int(kRowLabelsMax) + 1; ++i) many["l" + std::to_string(i)] = "v";
  EXPECT_NE(row_labels_problem(many), std::nullopt);
  EXPECT_NE(row_labels_problem({{"task", std::string(kRowLabelValueMax + 1, 'x')}}),
            std::nullopt);
  EXPECT_NE(row_labels_problem({{"task", "a\nb"}}), std::nullopt);
  EXPECT_NE(row_labels_problem({{"task", "\xff\xfe"}}), std::nullopt);
  EXPECT_EQ(row_labels_problem({{"task", "résumé"}}), std::nullopt);
}

Scenario labelled_scenario(const std::string& group_by) {
  return parse_ok(std::string(kTwoTargets) + group_by + R"(
prompts: {source: jsonl, file: labelled.jsonl, sampling: sequential}
)");
}

TEST(GroupBy, SamplingKeepsOnlyTheGroupedLabels) {
  Scenario s = labelled_scenario("group_by: [model, task]\n");
  auto prompts = sample_prompts(s, 4, 1);
  ASSERT_TRUE(prompts.ok()) << prompts.error();
  EXPECT_EQ((*prompts)[0].labels, (Labels{{"task", "summarize"}}));  // agent dropped
  EXPECT_TRUE((*prompts)[3].labels.empty());
  EXPECT_TRUE(check_group_by(s, *prompts).empty());

  // 2 models × (3 tasks + the unlabelled row); target left out.
  const std::vector<Labels> groups = scenario_group_labels(s, *prompts);
  EXPECT_EQ(groups.size(), 8u);
  EXPECT_NE(std::find(groups.begin(), groups.end(),
                      Labels{{"model", "m2"}, {"task", "math"}, {"team", "search"}}),
            groups.end());
  EXPECT_NE(std::find(groups.begin(), groups.end(), Labels{{"model", "m1"}, {"team", "search"}}),
            groups.end());

  Scenario all = labelled_scenario("");
  auto every = sample_prompts(all, 4, 1);
  ASSERT_TRUE(every.ok());
  EXPECT_EQ((*every)[0].labels, (Labels{{"agent", "planner"}, {"task", "summarize"}}));
}

TEST(GroupBy, AnUnknownNameIsAnErrorListingTheLabelsSeen) {
  Scenario s = labelled_scenario("group_by: [model, tsak]\n");
  auto prompts = sample_prompts(s, 4, 1);
  ASSERT_TRUE(prompts.ok());
  auto errors = check_group_by(s, *prompts);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "group_by: 'tsak' is not a label of this run: not target, model, a tag, or a label on "
            "any of its prompts");

  Scenario t = labelled_scenario("group_by: [task, agentt]\n");
  auto tp = sample_prompts(t, 4, 1);
  ASSERT_TRUE(tp.ok());
  errors = check_group_by(t, *tp);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("'agentt'"), std::string::npos);
  // A tag is a label.
  Scenario tag = labelled_scenario("group_by: [team]\n");
  auto tag_prompts = sample_prompts(tag, 4, 1);
  ASSERT_TRUE(tag_prompts.ok());
  EXPECT_TRUE(check_group_by(tag, *tag_prompts).empty());
}

TEST(GroupBy, LabelsTravelOnTheWireAndHostileOnesAreRefused) {
  ResolvedPrompt p;
  p.text = "x";
  p.labels = {{"task", "rag"}, {"agent", "planner"}};
  auto back = wire::prompt_from_json(wire::prompt_to_json(p), 1 << 20);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->labels, p.labels);

  nlohmann::json j = wire::prompt_to_json(p);
  j["labels"] = {{"task", 7}};
  EXPECT_FALSE(wire::prompt_from_json(j, 1 << 20).ok());
  j["labels"] = {{"__name__", "x"}};
  auto bad = wire::prompt_from_json(j, 1 << 20);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("prompt.labels"), std::string::npos) << bad.error();
  j["labels"] = nlohmann::json::object();
  for (int i = 0; i < 100; ++i) j["labels"]["l" + std::to_string(i)] = "v";
  EXPECT_FALSE(wire::prompt_from_json(j, 1 << 20).ok());
}

TEST(GroupBy, RunPlanRecordsEachRequestInItsRowsGroup) {
  // group_by [task]: the two targets share result groups; a request's group follows its prompt.
  Scenario s = labelled_scenario("group_by: [task]\n");
  auto prompts = sample_prompts(s, 4, 1);
  ASSERT_TRUE(prompts.ok());
  auto plan = worker::build_run_plan(s, *prompts);
  ASSERT_TRUE(plan.ok()) << plan.error();
  const worker::RunPlan& p = *plan.value();
  ASSERT_EQ(p.groups.size(), 2u);         // a/m1 and b/m2: what is sent
  ASSERT_EQ(p.record_groups.size(), 4u);  // summarize, write, math, unlabelled: what is recorded
  EXPECT_EQ(p.group_labels().size(), 4u);
  for (int64_t item = 0; item < 4; ++item) {
    EXPECT_EQ(p.record_group(0, item), p.record_group(1, item));
    const Labels& l = p.record_groups[size_t(p.record_group(0, item))].labels;
    const auto task = (*prompts)[size_t(item)].labels.find("task");
    if (task == (*prompts)[size_t(item)].labels.end())
      EXPECT_EQ(l.count("task"), 0u);
    else
      EXPECT_EQ(l.at("task"), task->second);
    EXPECT_EQ(l.count("target"), 0u);
    EXPECT_EQ(p.record_groups[size_t(p.record_group(0, item))].key, group_key(l));
  }

  // Without group_by: target × model × row labels.
  Scenario all = labelled_scenario("");
  auto ap = sample_prompts(all, 4, 1);
  auto all_plan = worker::build_run_plan(all, *ap);
  ASSERT_TRUE(all_plan.ok());
  EXPECT_EQ(all_plan.value()->record_groups.size(), 8u);
  EXPECT_NE(all_plan.value()->record_group(0, 0), all_plan.value()->record_group(1, 0));
}

}  // namespace
}  // namespace llmload
