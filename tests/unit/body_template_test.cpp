// Bodies written per request (worker/body_template.h): a synthetic run's plan holds one
// template per group and every request written from it is a distinct, well-formed HTTP request
// of the asked length; unique_prefix tags each request of a dataset run (a conversation keeps
// its tag); trace rows sharing hash ids share their 512-token blocks and nothing more.
#include "worker/body_template.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/prompts.h"
#include "common/scenario.h"
#include "common/synthetic_text.h"
#include "worker/run_plan.h"

namespace llmload {
namespace {

using worker::BodyFill;
using worker::HttpRequest;

Scenario parse_ok(const std::string& text) {
  auto s = parse_scenario(text, "s.yaml", ::testing::TempDir());
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
  return s.ok() ? s.value() : Scenario{};
}

std::shared_ptr<const worker::RunPlan> plan_of(const Scenario& s) {
  auto prompts = sample_prompts(s, prompt_count_for_run(s), s.seed);
  EXPECT_TRUE(prompts.ok()) << (prompts.ok() ? "" : prompts.error());
  auto plan = worker::build_run_plan(s, *prompts);
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error());
  return plan.ok() ? plan.value() : nullptr;
}

// The request's body parsed, after checking Content-Length against the bytes.
nlohmann::json body_of(const HttpRequest& r) {
  const std::string& b = r.bytes();
  const std::string head = b.substr(0, r.head_size());
  const size_t cl = head.find("Content-Length: ");
  EXPECT_NE(cl, std::string::npos);
  EXPECT_EQ(std::stoul(head.substr(cl + 16)), b.size() - r.head_size());
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  return nlohmann::json::parse(b.substr(r.head_size()));
}

HttpRequest write(const worker::RunPlan& p, int64_t item, const BodyFill& f) {
  HttpRequest out;
  std::string scratch;
  p.groups[0].templates[size_t(item)].write(out, scratch, p.writer, f);
  return out;
}

TEST(BodyTemplate, SyntheticRunWritesADistinctPromptOfTheAskedLengthPerRequest) {
  const Scenario s = parse_ok(R"(
targets: [{url: "http://127.0.0.1:9", model: m}]
load: {concurrency: 1, requests: 10}
prompts: {source: synthetic, input_tokens: 300, shared_prefix_tokens: 20, system: be brief}
output: {max_tokens: {dist: uniform, min: 5, max: 50}}
)");
  auto plan = plan_of(s);
  ASSERT_TRUE(plan);
  ASSERT_TRUE(plan->per_request);
  ASSERT_EQ(plan->items.size(), 1u);  // one template, not a list of prompts
  std::set<std::string> bodies;
  std::set<std::string> prefixes;
  std::set<int64_t> max_tokens;
  for (int64_t seq = 0; seq < 500; ++seq) {
    BodyFill f;
    f.key = f.tag_key = request_key(s.seed, 0, seq);
    const HttpRequest r = write(*plan, 0, f);
    const nlohmann::json j = body_of(r);
    ASSERT_EQ(j["messages"].size(), 2u);
    EXPECT_EQ(j["messages"][0]["content"], "be brief");
    const std::string text = j["messages"][1]["content"];
    EXPECT_EQ(estimate_tokens(text), 300);
    size_t pos = 0;
    for (int w = 0; w < 20; ++w) pos = text.find(' ', pos) + 1;
    prefixes.insert(text.substr(0, pos));
    const int64_t m = j["max_tokens"];
    EXPECT_TRUE(m >= 5 && m <= 50) << m;
    max_tokens.insert(m);
    bodies.insert(r.bytes());
    // The same key writes the same bytes.
    EXPECT_EQ(write(*plan, 0, f).bytes(), r.bytes());
  }
  EXPECT_EQ(bodies.size(), 500u);
  EXPECT_EQ(prefixes.size(), 1u);  // the shared prefix is shared
  EXPECT_GT(max_tokens.size(), 20u);
}

TEST(BodyTemplate, UniquePrefixTagsEveryRequestOfADatasetRun) {
  const Scenario s = parse_ok(R"(
targets: [{url: "http://127.0.0.1:9", model: m, api: openai-completions}]
load: {concurrency: 1, requests: 10}
prompts: {source: inline, items: [same words, same words], unique_prefix: true}
)");
  auto plan = plan_of(s);
  ASSERT_TRUE(plan);
  ASSERT_TRUE(plan->per_request);
  std::set<std::string> prompts;
  for (int64_t seq = 0; seq < 100; ++seq) {
    BodyFill f;
    f.key = f.tag_key = request_key(1, 0, seq);
    const std::string p = body_of(write(*plan, seq % 2, f))["prompt"];
    EXPECT_EQ(p.rfind("[request ", 0), 0u) << p;
    EXPECT_EQ(p.substr(p.find(']') + 1), " same words");
    prompts.insert(p);
  }
  EXPECT_EQ(prompts.size(), 100u);
}

TEST(BodyTemplate, ADatasetPromptsOwnDigitsAreNeverTakenForAHole) {
  const Scenario s = parse_ok(R"(
targets: [{url: "http://127.0.0.1:9", model: m, api: openai-completions}]
load: {concurrency: 1, requests: 1}
prompts: {source: inline, items: ["count to 987650123456789"], unique_prefix: true}
output: {max_tokens: 7}
)");
  auto plan = plan_of(s);
  ASSERT_TRUE(plan);
  BodyFill f;
  f.key = f.tag_key = 5;
  const nlohmann::json j = body_of(write(*plan, 0, f));
  EXPECT_EQ(j["prompt"], "[request 0000000000000005] count to 987650123456789");
  EXPECT_EQ(j["max_tokens"], 7);
}

TEST(BodyTemplate, TraceRowsSharingHashIdsShareTheirBlocksOnly) {
  const std::string file = ::testing::TempDir() + "body_template_trace.jsonl";
  {
    std::ofstream out(file);
    out << "{\"timestamp\": 0, \"input_length\": 1100, \"output_length\": 9, "
           "\"hash_ids\": [7, 8, 9]}\n"
        << "{\"timestamp\": 5, \"input_length\": 1100, \"output_length\": 4, "
           "\"hash_ids\": [7, 8, 10]}\n"
        << "{\"timestamp\": 6, \"input_length\": 300, \"output_length\": 4}\n";
  }
  const Scenario s = parse_ok(R"(
targets: [{url: "http://127.0.0.1:9", model: m, api: openai-completions}]
load: {trace: {file: )" + file +
                              R"(, format: mooncake}}
)");
  auto plan = plan_of(s);
  ASSERT_TRUE(plan);
  ASSERT_TRUE(plan->trace);
  std::vector<std::string> texts;
  for (size_t i = 0; i < 3; ++i) {
    BodyFill f;
    f.key = f.tag_key = request_key(1, 0, int64_t(i));
    f.row = &plan->trace->rows[i];
    f.trace = plan->trace.get();
    const nlohmann::json j = body_of(write(*plan, 0, f));
    EXPECT_EQ(j["max_tokens"], plan->trace->rows[i].output_tokens);
    texts.push_back(j["prompt"]);
    EXPECT_EQ(estimate_tokens(texts.back()), plan->trace->rows[i].input_tokens);
  }
  // Rows 0 and 1 share blocks 7 and 8 (1024 words), then differ.
  size_t common = 0;
  while (common < texts[0].size() && texts[0][common] == texts[1][common]) ++common;
  EXPECT_EQ(estimate_tokens(texts[0].substr(0, texts[0].rfind(' ', common))), 1024);
  EXPECT_NE(texts[0].substr(0, 60), texts[2].substr(0, 60));
  std::remove(file.c_str());
}

}  // namespace
}  // namespace llmload
