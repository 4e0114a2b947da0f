#include <gtest/gtest.h>

#include "tests/unit/adapter_test_util.h"

namespace llmload {
namespace {

TEST(AdapterFactory, UnknownNameListsKnownOnes) {
  auto a = make_adapter("openai");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().find("'openai'"), std::string::npos);
  EXPECT_NE(a.error().find("anthropic-messages"), std::string::npos);
}

TEST(AdapterFactory, JoinUrlPath) {
  EXPECT_EQ(join_url_path("", "/v1/models"), "/v1/models");
  EXPECT_EQ(join_url_path("/", "/v1/models"), "/v1/models");
  EXPECT_EQ(join_url_path("/v1", "/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(join_url_path("/openai/v1/", "/v1/models"), "/openai/v1/models");
  EXPECT_EQ(join_url_path("/proxy", "/api/chat"), "/proxy/api/chat");
  EXPECT_EQ(join_url_path("/v1", "/api/tags"), "/v1/api/tags");
  EXPECT_EQ(join_url_path("/x/v10", "/v1/models"), "/x/v10/v1/models");
}

TEST(AdapterFactory, KindNamesAndPredicates) {
  EXPECT_STREQ(to_string(ChunkKind::role_only), "role_only");
  EXPECT_STREQ(to_string(ChunkKind::usage_only), "usage_only");
  EXPECT_STREQ(to_string(TokenSource::usage), "usage");
  EXPECT_STREQ(to_string(Framing::ndjson), "ndjson");
  EXPECT_TRUE(is_token_bearing(ChunkKind::reasoning));
  EXPECT_TRUE(is_token_bearing(ChunkKind::tool_call));
  EXPECT_FALSE(is_token_bearing(ChunkKind::role_only));
  EXPECT_FALSE(is_token_bearing(ChunkKind::empty));
  EXPECT_FALSE(is_token_bearing(ChunkKind::usage_only));
  EXPECT_TRUE(is_output_content(ChunkKind::content));
  EXPECT_FALSE(is_output_content(ChunkKind::reasoning));
  EXPECT_TRUE(is_output_content(ChunkKind::tool_call));  // the answer of a tool call
  for (ChunkKind k : {ChunkKind::role_only, ChunkKind::empty, ChunkKind::usage_only,
                      ChunkKind::error, ChunkKind::done, ChunkKind::other})
    EXPECT_FALSE(is_output_content(k)) << to_string(k);
}

// Every adapter survives the other APIs' streams: no crash, and each chunk is either classified
// or reported malformed with a message.
TEST(AdapterFactory, ForeignStreamsNeverCrash) {
  const char* fixtures[] = {"vllm-chat-continuous-usage.sse", "anthropic-messages.sse",
                            "ollama-chat.ndjson", "openai-chat-error.sse"};
  for (std::string_view name : api_names()) {
    auto a = testutil::adapter(name);
    for (const char* f : fixtures) {
      const auto r =
          testutil::replay_with(*a, [&](auto feed) { feed(testutil::stream_fixture(f)); });
      for (size_t i = 0; i < r.kinds.size(); ++i)
        if (r.statuses[i] == ClassifyStatus::malformed) {
          EXPECT_FALSE(r.errors[i].empty());
        }
    }
  }
}

}  // namespace
}  // namespace llmload
