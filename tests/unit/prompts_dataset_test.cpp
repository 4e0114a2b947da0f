// Reading prompt datasets (JSONL, ShareGPT, conversations): what each line may hold, and
// errors that name the file and line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/prompts.h"
#include "worker/run_plan.h"

namespace llmload {
namespace {

const std::string kDir = std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/scenarios/datasets/";

PromptSource source(PromptSourceKind kind, const std::string& file) {
  PromptSource p;
  p.kind = kind;
  p.file = kDir + file;
  return p;
}

TEST(JsonlPrompts, EveryLineShape) {
  auto e = load_prompt_entries(source(PromptSourceKind::kJsonl, "good.jsonl"));
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_EQ(e->size(), 5u);  // the blank line is skipped
  EXPECT_EQ((*e)[0].text, "first prompt here");
  EXPECT_EQ((*e)[1].text, "second");
  EXPECT_EQ((*e)[1].max_tokens, 12);
  ASSERT_EQ((*e)[2].messages.size(), 1u);
  EXPECT_EQ((*e)[2].messages[0].content, "third one");
  EXPECT_EQ((*e)[3].messages[0].content, "fourth");
  EXPECT_EQ((*e)[4].text, "fifth");  // extra fields ignored
}

TEST(JsonlPrompts, LimitKeepsTheFirstEntries) {
  PromptSource p = source(PromptSourceKind::kJsonl, "good.jsonl");
  p.limit = 2;
  auto e = load_prompt_entries(p);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 2u);
}

TEST(JsonlPrompts, ErrorsNameFileAndLine) {
  auto expect_error = [](const std::string& file, const std::string& what) {
    auto e = load_prompt_entries(source(PromptSourceKind::kJsonl, file));
    ASSERT_FALSE(e.ok()) << file;
    EXPECT_EQ(e.error(), kDir + what);
  };
  expect_error("broken.jsonl", "broken.jsonl:3: not valid JSON (each line must be one JSON value)");
  expect_error("bad_max_tokens.jsonl",
               "bad_max_tokens.jsonl:2: \"max_tokens\" must be a positive integer");
  expect_error("bad_role.jsonl",
               "bad_role.jsonl:1: messages[0]: unknown role 'robot' (system, user or assistant)");
  expect_error("blank.jsonl", "blank.jsonl: no prompts (the file holds only blank lines)");
  expect_error("wrong_shape.jsonl",
               "wrong_shape.jsonl:1: expected \"prompt\", \"text\" or \"messages\"");
  expect_error("missing.jsonl", "missing.jsonl: cannot open the prompt file");
  // A ShareGPT file read as JSONL: the first line is not a whole JSON value.
  expect_error("sharegpt.json",
               "sharegpt.json:1: not valid JSON (each line must be one JSON value)");
}

TEST(ShareGpt, FirstHumanTurnAndReplyLength) {
  PromptSource p = source(PromptSourceKind::kShareGpt, "sharegpt.json");
  auto plain = load_prompt_entries(p);
  ASSERT_TRUE(plain.ok()) << plain.error();
  ASSERT_EQ(plain->size(), 2u);  // the entry without a human turn is skipped
  EXPECT_EQ((*plain)[0].text, "hello there friend");
  EXPECT_FALSE((*plain)[0].max_tokens.has_value());
  EXPECT_EQ((*plain)[1].text, "second prompt");
  p.output_from_reply = true;
  auto with = load_prompt_entries(p);
  ASSERT_TRUE(with.ok());
  EXPECT_EQ((*with)[0].max_tokens, 5);
  EXPECT_EQ((*with)[1].max_tokens, 2);
}

TEST(ShareGpt, ErrorsNameFileAndLineOrEntry) {
  auto a = load_prompt_entries(source(PromptSourceKind::kShareGpt, "sharegpt_not_array.json"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(), kDir +
                           "sharegpt_not_array.json: not a ShareGPT file: expected a JSON array "
                           "of {\"conversations\": [...]}");
  auto b = load_prompt_entries(source(PromptSourceKind::kShareGpt, "sharegpt_broken.json"));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(),
            kDir + "sharegpt_broken.json:5: not valid JSON (a ShareGPT file is one JSON array)");
  auto c = load_prompt_entries(source(PromptSourceKind::kShareGpt, "sharegpt_bad_turn.json"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(
      c.error(),
      kDir + "sharegpt_bad_turn.json: entry 0: conversations[0]: expected {\"from\", \"value\"}");
  auto d = load_prompt_entries(source(PromptSourceKind::kShareGpt, "good.jsonl"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), kDir + "good.jsonl:3: not valid JSON (a ShareGPT file is one JSON array)");
}

TEST(Conversations, MessagesAndTurnsFormsAndErrors) {
  auto e = load_prompt_entries(source(PromptSourceKind::kConversations, "conversations.jsonl"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(
      e.error(),
      kDir + "conversations.jsonl:3: messages[0]: an assistant reply must follow a user message");
  PromptSource p = source(PromptSourceKind::kConversations, "conversations.jsonl");
  p.limit = 2;
  auto ok = load_prompt_entries(p);
  ASSERT_TRUE(ok.ok()) << ok.error();
  ASSERT_EQ(ok->size(), 2u);
  const InlinePrompt& first = (*ok)[0];
  EXPECT_EQ(first.text, "sys");  // the conversation's system prompt
  ASSERT_EQ(first.turns.size(), 2u);
  EXPECT_EQ(first.turns[0].user, "q1");
  EXPECT_EQ(first.turns[0].recorded_reply, "r1");
  EXPECT_EQ(first.turns[1].recorded_reply, "");
  EXPECT_EQ((*ok)[1].turns[0].recorded_reply, "x y");

  Scenario s;
  s.prompts = p;
  auto sampled = sample_prompts(s, 2, 1);
  ASSERT_TRUE(sampled.ok()) << sampled.error();
  for (const ResolvedPrompt& r : *sampled) {
    ASSERT_FALSE(r.turns.empty());
    if (r.source_index == 0) {
      EXPECT_EQ(r.system, "sys");
      EXPECT_EQ(r.input_tokens_estimate, 2);  // "sys" + "q1"
      auto msgs = conversation_messages(r, 1, nullptr);
      ASSERT_EQ(msgs.size(), 4u);
      EXPECT_EQ(msgs[2].content, "r1");
    }
  }
}

TEST(DatasetSampling, UniquePrefixGoesOnTheFirstUserMessageOfEachRequest) {
  Scenario s;
  s.prompts = source(PromptSourceKind::kJsonl, "good.jsonl");
  s.prompts.unique_prefix = true;
  s.prompts.sampling = Sampling::kSequential;
  Target t;
  t.url = "http://127.0.0.1:9";
  t.models = {ModelChoice{"m", 1}};
  s.targets.push_back(t);
  auto ps = sample_prompts(s, 5, 3);
  ASSERT_TRUE(ps.ok());
  // The sample is the dataset's text: the tag is written per request on the worker.
  EXPECT_EQ((*ps)[2].messages[0].content, "third one");
  auto plan = worker::build_run_plan(s, *ps);
  ASSERT_TRUE(plan.ok()) << plan.error();
  const worker::RunPlan& p = *plan.value();
  ASSERT_TRUE(p.per_request);
  worker::HttpRequest out;
  std::string scratch;
  worker::BodyFill f;
  f.key = f.tag_key = 0x2a;
  p.groups[0].templates[2].write(out, scratch, p.writer, f);
  const auto body = nlohmann::json::parse(out.bytes().substr(out.head_size()));
  EXPECT_EQ(body["messages"][0]["content"], "[request 000000000000002a] third one");
}

}  // namespace
}  // namespace llmload
