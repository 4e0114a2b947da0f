#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/adapter_test_util.h"

namespace llmload {
namespace {

class OpenAiCompletions : public ::testing::Test {
 protected:
  std::unique_ptr<ApiAdapter> a = testutil::adapter("openai-completions");
};

// llama.cpp /v1/completions, max_tokens 12 (the contract suite checks its events and usage):
// the final event's llama.cpp timings.
TEST_F(OpenAiCompletions, CapturedLlamaCppStreamTimings) {
  const auto r = testutil::replay(*a, testutil::capture_body("completions-stream"));
  ASSERT_TRUE(r.has_timings);
  EXPECT_EQ(*r.timings.predicted_n, 12);
  EXPECT_DOUBLE_EQ(*r.timings.predicted_ms, 66.639);
}

TEST_F(OpenAiCompletions, TextKinds) {
  StreamState s;
  ChunkInfo c;
  ASSERT_EQ(a->classify("", R"({"choices":[{"text":"","index":0}]})", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::empty);
  ASSERT_EQ(a->classify("", R"({"choices":[{"text":null,"index":0}]})", s, c), ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::empty);
  ASSERT_EQ(
      a->classify("", R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})", s, c),
      ClassifyStatus::ok);
  EXPECT_EQ(c.kind, ChunkKind::usage_only);
  EXPECT_EQ(a->classify("", R"({"choices":[{"text":5}]})", s, c), ClassifyStatus::malformed);
  EXPECT_EQ(s.counted_tokens, 0);
  EXPECT_EQ(s.output_tokens().value, 4);
}

TEST_F(OpenAiCompletions, MultiTokenChunkFromContinuousUsage) {
  StreamState s;
  ChunkInfo c;
  const char* chunks[] = {
      R"({"choices":[{"text":"a"}],"usage":{"prompt_tokens":5,"completion_tokens":2}})",
      R"({"choices":[{"text":""}],"usage":{"prompt_tokens":5,"completion_tokens":3}})",
      R"({"choices":[{"text":"b"}],"usage":{"prompt_tokens":5,"completion_tokens":5}})",
  };
  std::vector<int32_t> tokens;
  for (const char* ch : chunks) {
    ASSERT_EQ(a->classify("", ch, s, c), ClassifyStatus::ok);
    tokens.push_back(c.tokens);
  }
  // The token behind the empty chunk (an incomplete UTF-8 sequence, say) arrives with "b".
  EXPECT_EQ(tokens, (std::vector<int32_t>{2, 0, 3}));
  EXPECT_EQ(s.counted_tokens, 5);
}

TEST_F(OpenAiCompletions, BuildsBodyWithOpenAiOptions) {
  RequestOptions o;
  o.model = "tiny";
  o.max_tokens = 12;
  auto j =
      nlohmann::json::parse(a->build_body(PromptView{"The history of bridges", {}}, o).value());
  EXPECT_EQ(j["max_tokens"], 12);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
}

}  // namespace
}  // namespace llmload
