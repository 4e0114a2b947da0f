// OutputText: the streamed text a request keeps for the scenario's tokenizer. Nothing without a
// tokenizer; content, reasoning and tool-call text appended decoded; usage wins; a text over the
// cap, or a token-bearing chunk without text, falls back to counted chunks (count -1), and the
// request's output_tokens source follows (StreamState::output_tokens).
#include "worker/output_text.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/tokenizer.h"

namespace llmload::worker {
namespace {

// Bytes only (no merges): one token per byte, so counts are easy to check by hand.
std::shared_ptr<const Tokenizer> byte_tokenizer() {
  std::string s;
  for (int b = 0; b < 256; ++b)
    s += base64_encode(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\n";
  auto t = Tokenizer::from_tiktoken(s, "bytes_cl100k_base.tiktoken");
  EXPECT_TRUE(t.ok()) << t.error();
  return t.ok() ? *t : nullptr;
}

ChunkInfo chunk(ChunkKind kind, std::string_view text_json) {
  ChunkInfo c;
  c.kind = kind;
  c.tokens = is_token_bearing(kind) ? 1 : 0;
  c.text_json = text_json;
  return c;
}

TEST(OutputText, WithoutATokenizerNothingIsKept) {
  OutputText o;
  o.begin(nullptr);
  StreamState s;
  o.on_chunk(chunk(ChunkKind::content, R"("hello")"), s);
  EXPECT_FALSE(o.keeping());
  EXPECT_TRUE(o.text().empty());
  EXPECT_EQ(o.count(s), -1);
  s.counted_tokens = 1;
  EXPECT_EQ(s.output_tokens().source, TokenSource::counted);
}

TEST(OutputText, KeepsEveryTextBearingChunkDecodedAndCountsAtTheEnd) {
  auto tok = byte_tokenizer();
  ASSERT_NE(tok, nullptr);
  OutputText o;
  o.begin(tok.get());
  StreamState s;
  o.on_chunk(chunk(ChunkKind::role_only, ""), s);
  o.on_chunk(chunk(ChunkKind::reasoning, R"("think ")"), s);
  o.on_chunk(chunk(ChunkKind::content, R"("a\"b\n")"), s);
  o.on_chunk(chunk(ChunkKind::tool_call, R"("{\"x\":1}")"), s);
  o.on_chunk(chunk(ChunkKind::done, ""), s);
  EXPECT_EQ(o.text(), "think a\"b\n{\"x\":1}");
  EXPECT_EQ(o.count(s), int64_t(o.text().size()));  // one token per byte
  s.counted_tokens = 3;
  s.tokenized_tokens = o.count(s);
  EXPECT_EQ(s.output_tokens().source, TokenSource::tokenizer);
  EXPECT_EQ(s.output_tokens().value, int64_t(o.text().size()));
  // The next request starts empty.
  o.begin(tok.get());
  EXPECT_TRUE(o.text().empty());
  EXPECT_EQ(o.count(StreamState{}), 0);
}

TEST(OutputText, UsageWinsAndTheTextIsDropped) {
  auto tok = byte_tokenizer();
  OutputText o;
  o.begin(tok.get());
  StreamState s;
  o.on_chunk(chunk(ChunkKind::content, R"("hello")"), s);
  s.usage_completion_tokens = 7;
  o.on_chunk(chunk(ChunkKind::usage_only, ""), s);
  EXPECT_FALSE(o.keeping());
  EXPECT_EQ(o.stop(), OutputText::Stop::kUsage);
  EXPECT_TRUE(o.text().empty());
  EXPECT_EQ(o.count(s), -1);
  EXPECT_EQ(s.output_tokens().source, TokenSource::usage);
  EXPECT_EQ(s.output_tokens().value, 7);
}

TEST(OutputText, UsageOnTheLastChunkStillWinsAtTheEnd) {
  auto tok = byte_tokenizer();
  OutputText o;
  o.begin(tok.get());
  StreamState s;
  o.on_chunk(chunk(ChunkKind::content, R"("hello")"), s);
  s.usage_completion_tokens = 1;  // came with a chunk the text is not looked at for
  EXPECT_EQ(o.count(s), -1);
}

TEST(OutputText, PastTheCapItFallsBackToCountedChunks) {
  auto tok = byte_tokenizer();
  OutputText o(/*cap_bytes=*/10);
  o.begin(tok.get());
  StreamState s;
  o.on_chunk(chunk(ChunkKind::content, R"("12345")"), s);
  o.on_chunk(chunk(ChunkKind::content, R"("67890")"), s);
  EXPECT_TRUE(o.keeping()) << "exactly the cap is kept";
  EXPECT_EQ(o.count(s), 10);
  o.on_chunk(chunk(ChunkKind::content, R"("x")"), s);
  EXPECT_FALSE(o.keeping());
  EXPECT_EQ(o.stop(), OutputText::Stop::kCap);
  EXPECT_TRUE(o.text().empty());
  EXPECT_EQ(o.count(s), -1);
  o.on_chunk(chunk(ChunkKind::content, R"("y")"), s);  // stays off for this request
  EXPECT_TRUE(o.text().empty());
  s.counted_tokens = 3;
  s.tokenized_tokens = o.count(s);
  EXPECT_EQ(s.output_tokens().source, TokenSource::counted);
  EXPECT_EQ(s.output_tokens().value, 3);
  // A new request keeps again.
  o.begin(tok.get());
  EXPECT_TRUE(o.keeping());
}

TEST(OutputText, ATokenChunkWithoutTextFallsBackToCounted) {
  auto tok = byte_tokenizer();
  OutputText o;
  o.begin(tok.get());
  StreamState s;
  o.on_chunk(chunk(ChunkKind::content, R"("ab")"), s);
  o.on_chunk(chunk(ChunkKind::tool_call, ""), s);  // OpenAI tool_calls: no one string
  EXPECT_FALSE(o.keeping());
  EXPECT_EQ(o.stop(), OutputText::Stop::kNoText);
  EXPECT_EQ(o.count(s), -1);
}

TEST(OutputText, ARetryStartsTheTextOver) {
  auto tok = byte_tokenizer();
  OutputText o;
  o.begin(tok.get());
  StreamState s;
  o.on_chunk(chunk(ChunkKind::content, R"("stale")"), s);
  o.restart();
  o.on_chunk(chunk(ChunkKind::content, R"("ok")"), s);
  EXPECT_EQ(o.text(), "ok");
  EXPECT_EQ(o.count(s), 2);
}

TEST(OutputText, ALongAnswersBufferIsReleasedAtTheNextRequest) {
  auto tok = byte_tokenizer();
  OutputText o;
  o.begin(tok.get());
  StreamState s;
  const std::string big = "\"" + std::string(OutputText::kKeepCapacity + 10, 'x') + "\"";
  o.on_chunk(chunk(ChunkKind::content, big), s);
  EXPECT_GT(o.text().capacity(), OutputText::kKeepCapacity);
  o.begin(tok.get());
  EXPECT_LE(o.text().capacity(), OutputText::kKeepCapacity);
}

}  // namespace
}  // namespace llmload::worker
