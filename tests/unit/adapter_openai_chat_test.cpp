#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/adapter_test_util.h"

namespace llmload {
namespace {

using testutil::kind_names;
using Names = std::vector<std::string>;

class OpenAiChat : public ::testing::Test {
 protected:
  std::unique_ptr<ApiAdapter> a = testutil::adapter("openai-chat");
};

// llama.cpp, include_usage, max_tokens 16 (the contract suite checks its events and usage):
// one token per content chunk, none on the final chunk, and llama.cpp's timings.
TEST_F(OpenAiChat, CapturedLlamaCppStreamTokensAndTimings) {
  const auto r = testutil::replay(*a, testutil::capture_body("chat-stream-usage"));
  ASSERT_EQ(r.tokens.size(), 18u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(r.tokens[i], 1) << i;
  EXPECT_EQ(r.tokens[16], 0);
  EXPECT_FALSE(r.finals[16]);
  ASSERT_TRUE(r.has_timings);
  EXPECT_DOUBLE_EQ(*r.timings.prompt_ms, 20.158);
  EXPECT_DOUBLE_EQ(*r.timings.predicted_ms, 64.288);
  EXPECT_EQ(*r.timings.prompt_n, 26);
  EXPECT_EQ(*r.timings.predicted_n, 16);
}

// llama.cpp ended by the model: 136 content chunks, an empty-content chunk (not a token), the
// finish chunk with usage (137 completion tokens), [DONE].
TEST_F(OpenAiChat, CapturedLlamaCppStreamEosEmptyChunkNotCounted) {
  const auto r = testutil::replay(*a, testutil::capture_body("chat-stream-eos"));
  ASSERT_EQ(r.kinds.size(), 139u);
  Names expected(136, "content");
  expected.insert(expected.end(), {"empty", "usage_only", "done"});
  EXPECT_EQ(kind_names(r.kinds), expected);
  EXPECT_EQ(r.tokens[136], 0);
  EXPECT_EQ(r.state.counted_tokens, 136);
  EXPECT_EQ(r.state.token_chunks, 136);
  // Server usage wins over counting, and says so.
  EXPECT_EQ(r.state.output_tokens().value, 137);
  EXPECT_EQ(r.state.output_tokens().source, TokenSource::usage);
  EXPECT_TRUE(r.state.final_seen);
}

// vLLM with continuous_usage_stats: the role-only first chunk is not TTFT; a chunk whose usage
// rose by 3 carries 3 tokens.
TEST_F(OpenAiChat, VllmRoleOnlyFirstChunkAndMultiTokenChunk) {
  const auto r = testutil::replay(*a, testutil::stream_fixture("vllm-chat-continuous-usage.sse"));
  EXPECT_EQ(kind_names(r.kinds), (Names{"role_only", "content", "content", "content", "content",
                                        "usage_only", "usage_only", "done"}));
  EXPECT_EQ(r.ttft_index(), 1);
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{0, 1, 3, 1, 1, 0, 0, 0}));
  EXPECT_EQ(r.state.counted_tokens, 6);
  EXPECT_EQ(r.state.token_chunks, 4);
  EXPECT_EQ(r.state.output_tokens().value, 6);
  EXPECT_EQ(r.state.output_tokens().source, TokenSource::usage);
  EXPECT_EQ(r.state.input_tokens(), 12);
  EXPECT_TRUE(r.usage[0]);
  EXPECT_EQ(r.ids[0], "chatcmpl-vllm-7f3a");
}

TEST_F(OpenAiChat, ReasoningBeforeContent) {
  const auto r = testutil::replay(*a, testutil::stream_fixture("vllm-chat-reasoning.sse"));
  EXPECT_EQ(kind_names(r.kinds), (Names{"role_only", "reasoning", "reasoning", "reasoning",
                                        "content", "content", "empty", "usage_only", "done"}));
  EXPECT_EQ(r.ttft_index(), 1);  // reasoning text starts ttft
  EXPECT_EQ(r.ttfo_index(), 4);  // the answer starts ttfo
  EXPECT_EQ(r.state.counted_tokens, 5);
  EXPECT_EQ(r.state.output_tokens().value, 8);  // usage includes tokens not streamed as text
}

TEST_F(OpenAiChat, ToolCallDeltas) {
  const auto r = testutil::replay(*a, testutil::stream_fixture("openai-chat-tool-calls.sse"));
  EXPECT_EQ(kind_names(r.kinds), (Names{"tool_call", "tool_call", "tool_call", "tool_call", "empty",
                                        "usage_only", "done"}));
  EXPECT_EQ(r.ttft_index(), 0);
  EXPECT_EQ(r.ttfo_index(), 0);  // a tool call is the answer: output, so it starts ttfo too
  EXPECT_EQ(r.state.output_tokens().value, 17);
}

TEST_F(OpenAiChat, OtherErrorShapes) {
  StreamState s;
  ChunkInfo c;
  // Older vLLM: an error object at the top level.
  ASSERT_EQ(
      a->classify(
          "",
          R"({"object":"error","message":"max_tokens too large","type":"BadRequestError","code":400})",
          s, c),
      ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::error);
  EXPECT_EQ(c.error_message, "max_tokens too large");
  // An `event: error` with plain text.
  ASSERT_EQ(a->classify("error", "upstream timed out", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::error);
  EXPECT_EQ(c.error_message, "upstream timed out");
  // A string error.
  ASSERT_EQ(a->classify("", R"({"error":"overloaded"})", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.error_message, "overloaded");
}

TEST_F(OpenAiChat, MalformedChunksAreProtocolErrors) {
  StreamState s;
  ChunkInfo c;
  for (const char* bad :
       {"{\"choices\":[{\"delta\":{\"content\":\"x\"}}]", "", "{\"choices\":{}}",
        "{\"choices\":[1]}", "{\"usage\":{\"prompt_tokens\":\"x\"}}", "[DONE] extra"}) {
    EXPECT_EQ(a->classify("", bad, s, c), ClassifyStatus::malformed) << bad;
    EXPECT_EQ(c.kind, ChunkKind::error);
    EXPECT_FALSE(c.error_message.empty());
  }
  EXPECT_EQ(s.counted_tokens, 0);
}

TEST_F(OpenAiChat, NonStreamedBody) {
  const std::string body = testutil::capture_body("chat-nonstream");
  StreamState s;
  ChunkInfo c;
  ASSERT_EQ(a->classify("", body, s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::content);
  EXPECT_TRUE(c.final);
  EXPECT_EQ(s.output_tokens().value, 12);
  EXPECT_EQ(s.output_tokens().source, TokenSource::usage);
  EXPECT_EQ(s.input_tokens(), 26);
  EXPECT_TRUE(c.has_timings);
  EXPECT_EQ(c.id, "chatcmpl-ghz6OUOJNKe43Adof2NZW0Rizrf1XcjL");
}

TEST_F(OpenAiChat, CapturedServerErrorBody) {
  const std::string body = testutil::capture_body("chat-bad-json");
  StreamState s;
  ChunkInfo c;
  ASSERT_EQ(a->classify("", body, s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::error);
  EXPECT_EQ(c.error_message.substr(0, 36), "[json.exception.parse_error.101] par");
}

TEST_F(OpenAiChat, BuildsBody) {
  ChatMessage msgs[] = {{"system", "Be brief."}, {"user", "Hi \"there\"\n"}};
  RequestOptions o;
  o.model = "llama-3-8b";
  o.max_tokens = 128;
  o.temperature = 0.5;
  o.ignore_eos = true;
  auto body = a->build_body(PromptView{"", msgs}, o);
  ASSERT_TRUE(body.ok()) << body.error();
  auto j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["max_tokens"], 128);
  EXPECT_EQ(j["temperature"], 0.5);
  EXPECT_EQ(j["ignore_eos"], true);
  EXPECT_EQ(j["stream_options"], nlohmann::json({{"include_usage", true}}));
  ASSERT_EQ(j["messages"].size(), 2u);
  EXPECT_EQ(j["messages"][0]["role"], "system");
  EXPECT_EQ(j["messages"][1]["content"], "Hi \"there\"\n");

  // Text only: one user message; per-chunk usage asked for; no max_tokens when not set.
  o = RequestOptions{};
  o.model = "m";
  o.continuous_usage_stats = true;
  body = a->build_body(PromptView{"Tell me a story", {}}, o);
  ASSERT_TRUE(body.ok());
  j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["messages"],
            nlohmann::json::parse(R"([{"role":"user","content":"Tell me a story"}])"));
  EXPECT_EQ(j["stream_options"]["continuous_usage_stats"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
  EXPECT_FALSE(j.contains("max_tokens"));
  EXPECT_FALSE(j.contains("ignore_eos"));
  EXPECT_FALSE(j.contains("temperature"));

  // stream_options switched off; and never sent on a non-streamed request.
  o.continuous_usage_stats = false;
  o.include_usage = false;
  j = nlohmann::json::parse(a->build_body(PromptView{"x", {}}, o).value());
  EXPECT_FALSE(j.contains("stream_options"));
  o.include_usage = true;
  o.stream = false;
  j = nlohmann::json::parse(a->build_body(PromptView{"x", {}}, o).value());
  EXPECT_FALSE(j.contains("stream_options"));
  EXPECT_EQ(j["stream"], false);
}

TEST_F(OpenAiChat, ExtraFieldsReplaceAndRemoveOpenAiOptions) {
  RequestOptions o;
  o.model = "m";
  o.max_tokens = 10;
  o.extra_body_json = R"({"top_p":0.9,"max_tokens":20,"stream_options":null,"seed":7,
                          "chat_template_kwargs":{"enable_thinking":false}})";
  auto body = a->build_body(PromptView{"x", {}}, o);
  ASSERT_TRUE(body.ok()) << body.error();
  auto j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["top_p"], 0.9);
  EXPECT_EQ(j["max_tokens"], 20);
  EXPECT_EQ(j["seed"], 7);
  EXPECT_FALSE(j.contains("stream_options"));  // null removes
  EXPECT_EQ(j["chat_template_kwargs"]["enable_thinking"], false);
}

}  // namespace
}  // namespace llmload
