// The contract every ApiAdapter meets, run over one row per API descriptor (common/api.h): it
// describes itself as its descriptor says, builds a streamed body, turns a captured stream into
// token events with the server's usage, reports an error payload, and calls anything it cannot
// read a protocol error. A new API inherits all of it by adding its row here; the per-adapter
// files keep only what is particular to one API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/adapter_test_util.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using testutil::kind_names;
using Names = std::vector<std::string>;

Names repeat(size_t n, const char* kind, std::initializer_list<const char*> tail) {
  Names out(n, kind);
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

// A response body: a capture (tests/data/captures), a stream fixture (tests/data/streams), or
// inline text.
struct Body {
  enum Kind { kCapture, kFixture, kInline } kind;
  const char* text;
  std::string load() const {
    if (kind == kCapture) return testutil::capture_body(text);
    if (kind == kFixture) return testutil::stream_fixture(text);
    return text;
  }
};

struct ContractRow {
  Api api;
  // A complete stream and what it must classify into.
  Body stream;
  Names kinds;
  int ttft_index;
  int ttfo_index;
  int64_t counted_tokens;
  int64_t usage_output_tokens;
  int64_t usage_input_tokens;
  const char* first_id;  // "": the API sends none
  // A stream that ends in the server's error payload, and the message read from it.
  Body error_stream;
  const char* error_message;
  int64_t counted_before_error;
};

void PrintTo(const ContractRow& row, std::ostream* os) {
  *os << api_name(row.api);
}

const ContractRow kRows[] = {
    {Api::kOpenAiChat,
     {Body::kCapture, "chat-stream-usage"},
     repeat(16, "content", {"usage_only", "done"}),
     0,
     0,
     16,
     16,
     26,
     "chatcmpl-pNDWvNaOTZCkOvUmOSg5qSPgI3ZpLiTJ",
     {Body::kFixture, "openai-chat-error.sse"},
     "The server had an error while processing your request. \"Sorry\"",
     1},
    {Api::kOpenAiCompletions,
     {Body::kCapture, "completions-stream"},
     repeat(12, "content", {"usage_only", "done"}),
     0,
     0,
     12,
     12,
     12,
     "chatcmpl-Q826Y1OFc2SjycEGGZT2q9vQa7NqDuPu",
     {Body::kInline,
      "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
      "data: {\"choices\":[{\"text\":\"b\"}]}\n\n"
      "data: {\"error\":{\"message\":\"overloaded\",\"code\":503}}\n\n"},
     "overloaded",
     2},
    {Api::kOllamaChat,
     {Body::kFixture, "ollama-chat.ndjson"},
     {"reasoning", "reasoning", "content", "content", "content", "done"},
     0,
     2,
     5,
     5,
     26,
     "",
     {Body::kInline,
      "{\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n"
      "{\"error\":\"model runner has unexpectedly stopped\"}\n"},
     "model runner has unexpectedly stopped",
     1},
    {Api::kOllamaGenerate,
     {Body::kFixture, "ollama-generate.ndjson"},
     {"content", "content", "content", "content", "done"},
     0,
     0,
     4,
     4,
     26,
     "",
     {Body::kFixture, "ollama-error.ndjson"},
     "an error was encountered while running the model: unexpected EOF",
     2},
    {Api::kAnthropicMessages,
     {Body::kFixture, "anthropic-messages.sse"},
     {"role_only", "other", "other", "reasoning", "reasoning", "other", "other", "other", "content",
      "content", "content", "other", "usage_only", "done"},
     3,
     8,
     5,
     15,
     25,
     "msg_01XFDUDYJgAACzvnptvVoYEL",
     {Body::kFixture, "anthropic-error.sse"},
     "Overloaded",
     1},
    // Never streamed: the body is its own terminator (kind done), with the usage.
    {Api::kOpenAiEmbeddings,
     {Body::kInline,
      R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]},)"
      R"({"object":"embedding","index":1,"embedding":[0.3,0.4]}],"model":"m",)"
      R"("usage":{"prompt_tokens":9,"total_tokens":9}})"},
     {"done"},
     -1,
     -1,
     0,
     0,
     9,
     "",
     {Body::kInline, R"({"error":{"message":"input too long","type":"invalid_request_error"}})"},
     "input too long",
     0},
};

class AdapterContract : public ::testing::TestWithParam<ContractRow> {
 protected:
  const ContractRow& row() const { return GetParam(); }
  const ApiDescriptor& descriptor() const { return api_descriptor(row().api); }
  std::unique_ptr<ApiAdapter> a = make_adapter(GetParam().api);

  static RequestOptions options() {
    RequestOptions o;
    o.model = "m";
    o.max_tokens = 64;  // anthropic-messages requires it; every API accepts it
    return o;
  }
  nlohmann::json body(const PromptView& prompt, const RequestOptions& o) const {
    auto b = a->build_body(prompt, o);
    EXPECT_TRUE(b.ok()) << b.error();
    return b.ok() ? nlohmann::json::parse(*b) : nlohmann::json();
  }
};

TEST(AdapterContractRows, OneRowPerDescriptorInTableOrder) {
  ASSERT_EQ(std::size(kRows), api_descriptors().size());
  for (size_t i = 0; i < std::size(kRows); ++i) EXPECT_EQ(kRows[i].api, api_descriptors()[i].api);
}

TEST_P(AdapterContract, DescribesItselfAsItsDescriptorSays) {
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->api(), row().api);
  EXPECT_EQ(&a->descriptor(), &descriptor());
  EXPECT_EQ(a->name(), descriptor().name);
  EXPECT_EQ(a->framing(), descriptor().framing);
  EXPECT_EQ(a->framing(false), Framing::json_body);
  EXPECT_EQ(a->endpoint_path(), descriptor().endpoint_path);
  // The name is what make_adapter and parse_api know it by.
  auto by_name = make_adapter(descriptor().name);
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ((*by_name)->api(), row().api);
  EXPECT_EQ(parse_api(descriptor().name), row().api);
  bool content_type = false;
  for (const AdapterHeader& h : a->required_headers())
    content_type = content_type || (h.name == "Content-Type" && h.value == "application/json");
  EXPECT_TRUE(content_type);
}

TEST_P(AdapterContract, BuildsAStreamedBodyFromTextOrMessages) {
  const RequestOptions o = options();
  nlohmann::json j = body(PromptView{"Tell me a story", {}}, o);
  EXPECT_EQ(j["model"], "m");
  if (descriptor().framing == Framing::json_body) {
    // An API that never streams asks for nothing of the kind; its inputs are a batch.
    EXPECT_FALSE(j.contains("stream"));
    EXPECT_FALSE(j.contains("stream_options"));
    EXPECT_EQ(j["input"], nlohmann::json::array({"Tell me a story"}));
    const std::string_view batch[] = {"one", "two \"2\"", "three"};
    j = body(PromptView{"", {}, batch}, o);
    EXPECT_EQ(j["input"], nlohmann::json::array({"one", "two \"2\"", "three"}));
    return;
  }
  EXPECT_EQ(j["stream"], true);
  if (descriptor().chat) {
    ASSERT_TRUE(j["messages"].is_array());
    EXPECT_EQ(j["messages"].back()["role"], "user");
    EXPECT_EQ(j["messages"].back()["content"], "Tell me a story");
    EXPECT_FALSE(j.contains("prompt"));
  } else {
    EXPECT_EQ(j["prompt"], "Tell me a story");
    EXPECT_FALSE(j.contains("messages"));
  }
  ChatMessage msgs[] = {{"user", "Hello"}, {"assistant", "Hi"}, {"user", "Bye \"now\"\n"}};
  j = body(PromptView{"", msgs}, o);
  if (descriptor().chat) {
    ASSERT_EQ(j["messages"].size(), 3u);
    EXPECT_EQ(j["messages"][2]["content"], "Bye \"now\"\n");
  } else {
    EXPECT_EQ(j["prompt"], "Hello\n\nHi\n\nBye \"now\"\n");
  }
}

// output.stream false: every generation API asks for one JSON body, and reads one back.
TEST_P(AdapterContract, BuildsANonStreamedBodyWhenAsked) {
  RequestOptions o = options();
  o.stream = false;
  const nlohmann::json j = body(PromptView{"Tell me a story", {}}, o);
  if (descriptor().framing == Framing::json_body) {
    EXPECT_FALSE(j.contains("stream"));
  } else {
    EXPECT_EQ(j["stream"], false);
  }
  EXPECT_FALSE(j.contains("stream_options"));  // only valid on a streamed request
}

TEST_P(AdapterContract, ExtraBodyIsMergedLast) {
  RequestOptions o = options();
  o.extra_body_json = R"({"seed":7,"model":"other","stream":null,"x":{"y":1}})";
  const nlohmann::json j = body(PromptView{"x", {}}, o);
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["model"], "other");
  EXPECT_FALSE(j.contains("stream"));  // null removes
  EXPECT_EQ(j["x"]["y"], 1);
}

TEST_P(AdapterContract, BodyErrorsNameTheApiAndTheField) {
  RequestOptions o = options();
  o.model.clear();
  auto b = a->build_body(PromptView{"x", {}}, o);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find(std::string(descriptor().name)), std::string::npos) << b.error();
  EXPECT_NE(b.error().find("model"), std::string::npos) << b.error();
  o = options();
  o.extra_body_json = "[1]";
  b = a->build_body(PromptView{"x", {}}, o);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find(std::string(descriptor().name)), std::string::npos) << b.error();
  EXPECT_NE(b.error().find("object"), std::string::npos) << b.error();
  o.extra_body_json = "{bad";
  EXPECT_FALSE(a->build_body(PromptView{"x", {}}, o).ok());
}

// Split at every byte boundary too (testutil::replay): the same events every time.
TEST_P(AdapterContract, StreamBecomesTokenEventsWithTheServersUsage) {
  const auto r = testutil::replay(*a, row().stream.load());
  EXPECT_EQ(r.parse, ParseStatus::ok);
  EXPECT_EQ(kind_names(r.kinds), row().kinds);
  for (auto st : r.statuses) EXPECT_EQ(st, ClassifyStatus::ok);
  EXPECT_EQ(r.ttft_index(), row().ttft_index);
  EXPECT_EQ(r.ttfo_index(), row().ttfo_index);
  EXPECT_EQ(r.state.counted_tokens, row().counted_tokens);
  EXPECT_EQ(r.state.output_tokens().value, row().usage_output_tokens);
  EXPECT_EQ(r.state.output_tokens().source, TokenSource::usage);
  EXPECT_EQ(r.state.input_tokens(), row().usage_input_tokens);
  // The done marker ends the stream and is final.
  EXPECT_TRUE(r.state.final_seen);
  ASSERT_FALSE(r.finals.empty());
  EXPECT_TRUE(r.finals.back());
  EXPECT_EQ(r.kinds.back(), ChunkKind::done);
  EXPECT_EQ(r.tokens.back(), 0);
  if (*row().first_id != '\0') {
    EXPECT_EQ(r.ids[0], row().first_id);
  }
}

TEST_P(AdapterContract, ErrorPayloadIsAnErrorEventNotAMalformedOne) {
  const auto r = testutil::replay(*a, row().error_stream.load());
  ASSERT_FALSE(r.kinds.empty());
  EXPECT_EQ(r.kinds.back(), ChunkKind::error);
  EXPECT_EQ(r.statuses.back(), ClassifyStatus::ok);
  EXPECT_EQ(r.errors.back(), row().error_message);
  EXPECT_FALSE(r.state.final_seen);  // the engine calls this stream truncated
  EXPECT_EQ(r.state.output_tokens().source, TokenSource::counted);
  EXPECT_EQ(r.state.output_tokens().value, row().counted_before_error);
}

TEST_P(AdapterContract, UnreadableChunkIsAProtocolError) {
  StreamState s;
  for (const char* bad : {"not json", "{\"truncated\":", "[1,2]"}) {
    ChunkInfo c;
    EXPECT_EQ(a->classify("", bad, s, c), ClassifyStatus::malformed) << bad;
    EXPECT_EQ(c.kind, ChunkKind::error) << bad;
    EXPECT_FALSE(c.error_message.empty()) << bad;
  }
  EXPECT_EQ(s.counted_tokens, 0);
}

TEST_P(AdapterContract, StateResetStartsTheNextRequestClean) {
  const std::string body = row().stream.load();
  const auto first = testutil::replay_with(*a, [&](auto feed) { feed(body); });
  StreamState used = first.state;
  used.reset();
  const auto again = testutil::replay_with(
      *a, [&](auto feed) { feed(body); }, used);
  EXPECT_TRUE(again.same_as(first));
}

INSTANTIATE_TEST_SUITE_P(EveryApi, AdapterContract, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<ContractRow>& info) {
                           std::string n(api_name(info.param.api));
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace llmload
