#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/adapter_test_util.h"

namespace llmload {
namespace {

using testutil::kind_names;
using Names = std::vector<std::string>;

class Anthropic : public ::testing::Test {
 protected:
  std::unique_ptr<ApiAdapter> a = testutil::adapter("anthropic-messages");
};

TEST_F(Anthropic, SendsItsVersionHeader) {
  bool version = false;
  for (const AdapterHeader& h : a->required_headers())
    if (h.name == "anthropic-version") version = h.value == "2023-06-01";
  EXPECT_TRUE(version);
}

TEST_F(Anthropic, ToolUse) {
  const auto r = testutil::replay(*a, testutil::stream_fixture("anthropic-tool-use.sse"));
  EXPECT_EQ(kind_names(r.kinds),
            (Names{"role_only", "other", "other", "content", "other", "tool_call", "empty",
                   "tool_call", "tool_call", "other", "usage_only", "done"}));
  EXPECT_EQ(r.state.counted_tokens, 4);
  EXPECT_EQ(r.state.output_tokens().value, 89);
  EXPECT_EQ(r.state.input_tokens(), 472);
}

TEST_F(Anthropic, TypeFromDataWhenEventLinesMissingAndMalformed) {
  StreamState s;
  ChunkInfo c;
  ASSERT_EQ(
      a->classify(
          "",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})", s,
          c),
      ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::content);
  ASSERT_EQ(a->classify("", R"({"type":"message_stop"})", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::done);
  EXPECT_TRUE(s.final_seen);
  EXPECT_EQ(a->classify("content_block_delta", R"({"type":"content_block_delta","delta":7})", s, c),
            ClassifyStatus::malformed);
  EXPECT_EQ(a->classify("message_delta", R"({"usage":{"output_tokens":"many"}})", s, c),
            ClassifyStatus::malformed);
  EXPECT_EQ(a->classify("ping", "", s, c), ClassifyStatus::malformed);
  ASSERT_EQ(a->classify("future_event", R"({"type":"future_event"})", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::other);
}

TEST_F(Anthropic, BuildsBody) {
  ChatMessage msgs[] = {
      {"system", "Be terse."}, {"user", "Hello"}, {"assistant", "Hi"}, {"user", "Bye"}};
  RequestOptions o;
  o.model = "claude-sonnet-4-20250514";
  o.max_tokens = 256;
  o.temperature = 1.0;
  o.ignore_eos = true;
  auto body = a->build_body(PromptView{"", msgs}, o);
  ASSERT_TRUE(body.ok()) << body.error();
  auto j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["max_tokens"], 256);
  EXPECT_EQ(j["system"], "Be terse.");
  EXPECT_EQ(j["temperature"], 1.0);
  ASSERT_EQ(j["messages"].size(), 3u);
  EXPECT_EQ(j["messages"][0]["role"], "user");
  EXPECT_FALSE(j.contains("stream_options"));
  EXPECT_FALSE(j.contains("ignore_eos"));
  // max_tokens is required by the API.
  o.max_tokens.reset();
  body = a->build_body(PromptView{"x", {}}, o);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.error().find("max_tokens"), std::string::npos);
}

}  // namespace
}  // namespace llmload
