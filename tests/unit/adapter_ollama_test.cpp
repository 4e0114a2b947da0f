#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/adapter_test_util.h"

namespace llmload {
namespace {

// The contract suite checks these streams' events and usage; here, Ollama's durations and
// counts from the done:true object.
TEST(OllamaChat, DoneObjectCarriesCountsAndDurations) {
  auto a = testutil::adapter("ollama-chat");
  const auto r = testutil::replay(*a, testutil::stream_fixture("ollama-chat.ndjson"));
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(r.finals, (std::vector<bool>{false, false, false, false, false, true}));
  ASSERT_TRUE(r.has_timings);
  EXPECT_EQ(*r.timings.total_duration_ns, 4883583458);
  EXPECT_EQ(*r.timings.load_duration_ns, 1334875);
  EXPECT_EQ(*r.timings.prompt_eval_duration_ns, 342546000);
  EXPECT_EQ(*r.timings.eval_duration_ns, 4535599000);
  EXPECT_EQ(*r.timings.prompt_eval_count, 26);
  EXPECT_EQ(*r.timings.eval_count, 5);
  EXPECT_FALSE(r.timings.prompt_ms.has_value());
}

TEST(OllamaGenerate, CrlfAndBlankLinesAndFinalObject) {
  auto a = testutil::adapter("ollama-generate");
  const auto r = testutil::replay(*a, testutil::stream_fixture("ollama-generate.ndjson"));
  ASSERT_TRUE(r.has_timings);
  EXPECT_EQ(*r.timings.load_duration_ns, 6338219291);
}

TEST(OllamaChat, ToolCallsFinalWithTextAndMalformed) {
  auto a = testutil::adapter("ollama-chat");
  StreamState s;
  ChunkInfo c;
  ASSERT_EQ(
      a->classify(
          "",
          R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]},"done":false})",
          s, c),
      ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::tool_call);
  EXPECT_EQ(c.tokens, 1);
  // A final object that still carries text: a content chunk with final set, its text counted
  // as one token; eval_count is the whole answer's count.
  ASSERT_EQ(
      a->classify(
          "",
          R"({"message":{"role":"assistant","content":"!"},"done":true,"eval_count":9,"prompt_eval_count":3})",
          s, c),
      ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::content);
  EXPECT_TRUE(c.final);
  EXPECT_EQ(c.tokens, 1);
  EXPECT_EQ(c.completion_tokens, 9);
  EXPECT_EQ(s.counted_tokens, 2);
  EXPECT_EQ(s.output_tokens().value, 9);
  EXPECT_EQ(a->classify("", R"({"message":{"content":"x"},"done":fals})", s, c),
            ClassifyStatus::malformed);
  EXPECT_EQ(a->classify("", R"(["x"])", s, c), ClassifyStatus::malformed);
  ASSERT_EQ(a->classify("", R"({"error":{"message":"busy"}})", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.error_message, "busy");
}

TEST(OllamaChat, BuildsBody) {
  auto a = testutil::adapter("ollama-chat");
  ChatMessage msgs[] = {{"system", "S"}, {"user", "U"}};
  RequestOptions o;
  o.model = "llama3.2";
  o.max_tokens = 64;
  o.temperature = 0.0;
  o.ignore_eos = true;  // Ollama has no such option: not sent
  o.include_usage = true;
  auto j = nlohmann::json::parse(a->build_body(PromptView{"", msgs}, o).value());
  EXPECT_EQ(j["options"]["num_predict"], 64);
  EXPECT_EQ(j["options"]["temperature"], 0.0);
  EXPECT_FALSE(j.contains("max_tokens"));
  EXPECT_FALSE(j.contains("stream_options"));
  EXPECT_FALSE(j.contains("ignore_eos"));
  // Extra fields merge into options.
  o.extra_body_json = R"({"options":{"num_ctx":4096},"keep_alive":"5m"})";
  j = nlohmann::json::parse(a->build_body(PromptView{"", msgs}, o).value());
  EXPECT_EQ(j["options"]["num_ctx"], 4096);
  EXPECT_EQ(j["options"]["num_predict"], 64);
  EXPECT_EQ(j["keep_alive"], "5m");
}

TEST(OllamaGenerate, NoOptionsUnlessSetAndUnstreamed) {
  auto a = testutil::adapter("ollama-generate");
  RequestOptions o;
  o.model = "llama3.2";
  auto j = nlohmann::json::parse(a->build_body(PromptView{"Why is the sky blue?", {}}, o).value());
  EXPECT_FALSE(j.contains("options"));
  o.stream = false;
  j = nlohmann::json::parse(a->build_body(PromptView{"q", {}}, o).value());
  EXPECT_EQ(j["stream"], false);
}

}  // namespace
}  // namespace llmload
