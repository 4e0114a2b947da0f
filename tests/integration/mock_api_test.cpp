// The real `llmload mock` binary on an ephemeral loopback port, checked with a plain socket
// client: each endpoint's framing and defaults, errors, keep-alive and the truth log.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tests/integration/mock_test_util.h"

using nlohmann::json;
using namespace mocktest;

namespace {
const std::string kChat =
    R"({"model":"my-model","messages":[{"role":"user","content":"one two three"}]})";

json parse(const std::string& s) {
  return json::parse(s, nullptr, false);
}
std::string with(const std::string& base, const std::string& extra) {
  return base.substr(0, base.size() - 1) + "," + extra + "}";
}
}  // namespace

TEST(MockApi, SmokeOpenAiChatStreamFraming) {
  MockProcess mock({"--ttft", "5ms", "--itl", "1ms", "--tokens", "7"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines();
  EXPECT_EQ(mock.first_lines().rfind("llmload mock listening on http://127.0.0.1:", 0), 0u);
  Client c(mock.port());
  Response r =
      c.request(post("/v1/chat/completions",
                     with(kChat, R"("stream":true,"stream_options":{"include_usage":true})")));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("x-request-id").rfind("mock-", 0), 0u);
  auto events = sse_data(r.body);
  // role chunk, 7 tokens, finish, usage, [DONE]: one HTTP chunk per event
  ASSERT_EQ(events.size(), 11u) << r.body;
  EXPECT_EQ(r.chunks.size(), 11u);
  json role = parse(events[0]);
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(role["choices"][0]["delta"]["content"], "");
  std::string text;
  for (int i = 1; i <= 7; ++i) {
    json e = parse(events[size_t(i)]);
    ASSERT_FALSE(e.is_discarded()) << events[size_t(i)];
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    EXPECT_EQ(e["model"], "my-model");
    EXPECT_TRUE(e["choices"][0]["finish_reason"].is_null());
    std::string w = e["choices"][0]["delta"]["content"];
    EXPECT_EQ(w[0], ' ');
    EXPECT_EQ(count_words(w), 1);
    text += w;
  }
  EXPECT_EQ(count_words(text), 7);
  json fin = parse(events[8]);
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(fin["choices"][0]["delta"].empty());
  json usage = parse(events[9]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 7);
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 3);
  EXPECT_EQ(usage["usage"]["total_tokens"], 10);
  EXPECT_EQ(events[10], "[DONE]");
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");
  EXPECT_EQ(mock.stop(), 0);
  EXPECT_NE(mock.stderr_text().find("served 1 requests"), std::string::npos) << mock.stderr_text();
}

TEST(MockApi, OpenAiDefaultsNoStreamAndMaxTokens) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--tokens", "9"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  // No "stream": a JSON body; max_tokens wins over --tokens; finish_reason "length".
  Response r = c.request(post("/v1/chat/completions", with(kChat, R"("max_tokens":4)")));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  json b = parse(r.body);
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(count_words(b["choices"][0]["message"]["content"]), 4);
  EXPECT_EQ(b["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(b["usage"]["completion_tokens"], 4);
  // Same connection (keep-alive); max_completion_tokens; no usage chunk without include_usage.
  r = c.request(
      post("/v1/chat/completions", with(kChat, R"("stream":true,"max_completion_tokens":2)")));
  ASSERT_TRUE(r.complete);
  auto ev = sse_data(r.body);
  ASSERT_EQ(ev.size(), 5u) << r.body;  // role, 2 tokens, finish, [DONE]
  EXPECT_EQ(parse(ev[3])["choices"][0]["finish_reason"], "length");
  // /v1/completions: choices[0].text, no role chunk; --tokens when no max_tokens.
  r = c.request(post("/v1/completions", R"({"model":"x","prompt":"a b","stream":true})"));
  ASSERT_TRUE(r.complete);
  ev = sse_data(r.body);
  ASSERT_EQ(ev.size(), 11u) << r.body;  // 9 tokens, finish, [DONE]
  json first = parse(ev[0]);
  EXPECT_EQ(first["object"], "text_completion");
  EXPECT_EQ(count_words(first["choices"][0]["text"]), 1);
  r = c.request(post("/v1/completions", R"({"prompt":"a b","max_tokens":3})"));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(count_words(parse(r.body)["choices"][0]["text"]), 3);
  EXPECT_EQ(parse(r.body)["model"], "mock");
}

TEST(MockApi, UsageOnFinalChunkLikeLlamaCpp) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--usage", "final", "--no-role-chunk"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  Response r =
      c.request(post("/v1/chat/completions", with(kChat, R"("stream":true,"max_tokens":3)")));
  ASSERT_TRUE(r.complete);
  auto ev = sse_data(r.body);
  ASSERT_EQ(ev.size(), 5u) << r.body;  // 3 tokens, finish with usage, [DONE]
  json fin = parse(ev[3]);
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(fin["usage"]["completion_tokens"], 3);
  EXPECT_EQ(fin["timings"]["predicted_n"], 3);
}

// --usage none (or x-mock-usage: none): no usage anywhere, in every API's stream and body, so
// a client must count the output itself; the text is unchanged.
TEST(MockApi, UsageNoneSendsNoUsageInAnyApi) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--usage", "none"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  const std::string stream_usage =
      R"("stream":true,"stream_options":{"include_usage":true},"max_tokens":3)";
  for (const std::string& body : {with(kChat, stream_usage), with(kChat, R"("max_tokens":3)")}) {
    Response r = c.request(post("/v1/chat/completions", body));
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("\"usage\""), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("\"completion_tokens\""), std::string::npos) << r.body;
  }
  Response r = c.request(post("/v1/completions", R"({"prompt":"a","stream":true,"max_tokens":2})"));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body.find("\"usage\""), std::string::npos) << r.body;
  EXPECT_EQ(sse_data(r.body).size(), 4u) << r.body;  // 2 tokens, finish, [DONE]
  for (const char* stream : {"true", "false"}) {
    r = c.request(post("/v1/messages", std::string(R"({"model":"c","max_tokens":2,"stream":)") +
                                           stream +
                                           R"(,"messages":[{"role":"user","content":"q"}]})"));
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("\"usage\""), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("\"output_tokens\""), std::string::npos) << r.body;
    if (std::string(stream) == "true") {
      for (const auto& d : sse_data(r.body)) EXPECT_FALSE(parse(d).is_discarded()) << d;
    } else {
      EXPECT_EQ(count_words(parse(r.body)["content"][0]["text"]), 2);
    }
  }
  r = c.request(post("/api/generate", R"({"model":"m","prompt":"x","options":{"num_predict":2}})"));
  ASSERT_TRUE(r.complete);
  auto ls = lines(r.body);
  ASSERT_EQ(ls.size(), 3u) << r.body;
  json last = parse(ls[2]);
  EXPECT_EQ(last["done"], true);
  EXPECT_FALSE(last.contains("eval_count")) << ls[2];
  EXPECT_FALSE(last.contains("prompt_eval_count")) << ls[2];
  EXPECT_TRUE(last["eval_duration"].is_number_integer()) << ls[2];
  // Per request: x-mock-usage: chunk brings it back; a bad value names the header and "none".
  r = c.request(post("/v1/chat/completions", with(kChat, stream_usage), "x-mock-usage: chunk\r\n"));
  ASSERT_TRUE(r.complete);
  EXPECT_NE(r.body.find("\"completion_tokens\":3"), std::string::npos) << r.body;
  r = c.request(post("/v1/chat/completions", kChat, "x-mock-usage: some\r\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("none"), std::string::npos) << r.body;
}

TEST(MockApi, ReasoningThenContentAndMultiTokenChunks) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  Response r =
      c.request(post("/v1/chat/completions", with(kChat, R"("stream":true,"max_tokens":5)"),
                     "x-mock-reasoning-tokens: 3\r\nx-mock-tokens-per-chunk: 2\r\n"));
  ASSERT_TRUE(r.complete);
  auto ev = sse_data(r.body);
  // role; reasoning 2+1; content 2+2+1; finish; [DONE]
  ASSERT_EQ(ev.size(), 8u) << r.body;
  EXPECT_EQ(count_words(parse(ev[1])["choices"][0]["delta"]["reasoning_content"]), 2);
  EXPECT_EQ(count_words(parse(ev[2])["choices"][0]["delta"]["reasoning_content"]), 1);
  EXPECT_EQ(count_words(parse(ev[3])["choices"][0]["delta"]["content"]), 2);
  EXPECT_EQ(count_words(parse(ev[5])["choices"][0]["delta"]["content"]), 1);
  EXPECT_FALSE(parse(ev[3])["choices"][0]["delta"].contains("reasoning_content"));
}

TEST(MockApi, OllamaChatAndGenerate) {
  MockProcess mock({"--ttft", "2ms", "--itl", "1ms", "--tokens", "4"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  // Streams unless told not to: NDJSON.
  Response r = c.request(post(
      "/api/chat", R"({"model":"llama3:8b","messages":[{"role":"user","content":"hi you"}]})"));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.header("content-type"), "application/x-ndjson");
  auto ls = lines(r.body);
  ASSERT_EQ(ls.size(), 5u) << r.body;
  for (int i = 0; i < 4; ++i) {
    json l = parse(ls[size_t(i)]);
    EXPECT_EQ(l["done"], false);
    EXPECT_EQ(l["model"], "llama3:8b");
    EXPECT_EQ(count_words(l["message"]["content"]), 1);
  }
  json last = parse(ls[4]);
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["done_reason"], "stop");
  EXPECT_EQ(last["eval_count"], 4);
  EXPECT_EQ(last["prompt_eval_count"], 2);
  for (const char* f : {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"})
    EXPECT_TRUE(last[f].is_number_integer()) << f;
  EXPECT_GE(last["prompt_eval_duration"].get<int64_t>(), 2'000'000);
  EXPECT_GE(last["total_duration"].get<int64_t>(), last["eval_duration"].get<int64_t>());
  // num_predict; "stream": false gives one object.
  r = c.request(post("/api/generate",
                     R"({"model":"m","prompt":"x","stream":false,"options":{"num_predict":6}})"));
  ASSERT_TRUE(r.complete);
  json b = parse(r.body);
  EXPECT_EQ(count_words(b["response"]), 6);
  EXPECT_EQ(b["done"], true);
  EXPECT_EQ(b["done_reason"], "length");
  EXPECT_EQ(b["eval_count"], 6);
  r = c.request(get("/api/tags"));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(parse(r.body)["models"][0]["name"], "mock");
}

TEST(MockApi, AnthropicMessagesEvents) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  Response r = c.request(post(
      "/v1/messages",
      R"({"model":"claude-x","max_tokens":3,"stream":true,"messages":[{"role":"user","content":"a b c d"}]})"));
  ASSERT_TRUE(r.complete);
  std::vector<std::string> names;
  for (const auto& l : lines(r.body))
    if (l.rfind("event: ", 0) == 0) names.push_back(l.substr(7));
  std::vector<std::string> want = {
      "message_start",       "content_block_start", "ping",
      "content_block_delta", "content_block_delta", "content_block_delta",
      "content_block_stop",  "message_delta",       "message_stop"};
  EXPECT_EQ(names, want);
  auto data = sse_data(r.body);
  ASSERT_EQ(data.size(), want.size());
  EXPECT_EQ(parse(data[0])["message"]["model"], "claude-x");
  EXPECT_EQ(parse(data[0])["message"]["usage"]["input_tokens"], 4);
  EXPECT_EQ(parse(data[3])["delta"]["type"], "text_delta");
  EXPECT_EQ(parse(data[7])["usage"]["output_tokens"], 3);
  EXPECT_EQ(parse(data[7])["delta"]["stop_reason"], "max_tokens");
  // Non-streaming.
  r = c.request(post("/v1/messages",
                     R"({"model":"c","max_tokens":2,"messages":[{"role":"user","content":"q"}]})"));
  ASSERT_TRUE(r.complete);
  json b = parse(r.body);
  EXPECT_EQ(b["type"], "message");
  EXPECT_EQ(count_words(b["content"][0]["text"]), 2);
  // max_tokens is required, as on the real API.
  r = c.request(
      post("/v1/messages", R"({"model":"c","messages":[{"role":"user","content":"q"}]})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(parse(r.body)["type"], "error");
}

TEST(MockApi, SmokeErrorsAndPlainEndpoints) {
  MockProcess mock({"--max-body", "1000", "--model", "served-model"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  Response r = c.request(get("/health"));
  EXPECT_EQ(r.status, 200);
  r = c.request(get("/v1/models"));
  EXPECT_EQ(parse(r.body)["data"][0]["id"], "served-model");
  EXPECT_EQ(parse(r.body)["object"], "list");
  r = c.request(get("/nope"));
  EXPECT_EQ(r.status, 404);
  r = c.request(get("/v1/chat/completions"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "POST");
  r = c.request(post("/v1/chat/completions", "{\"model\": \"x\", \"messa"));
  EXPECT_EQ(r.status, 400);
  json e = parse(r.body);
  EXPECT_TRUE(e["error"]["message"].is_string());
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  r = c.request(post("/v1/chat/completions", R"({"messages":"no"})"));
  EXPECT_EQ(r.status, 400);
  r = c.request(post("/v1/chat/completions", with(kChat, R"("max_tokens":-1)")));
  EXPECT_EQ(r.status, 400);
  r = c.request(post("/v1/chat/completions", kChat, "x-mock-ttft: soon\r\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("x-mock-ttft"), std::string::npos);
  EXPECT_TRUE(c.connected());
  r = c.request(post("/v1/chat/completions", std::string(2000, ' ')));
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.wait_eof());  // 413 closes
}

TEST(MockApi, PipelinedRequestsAnsweredInOrder) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms"});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  std::string two = post("/v1/chat/completions", with(kChat, R"("max_tokens":2,"stream":true)")) +
                    post("/v1/chat/completions", with(kChat, R"("max_tokens":3)"), "", false);
  ASSERT_TRUE(c.send_all(two));
  Response a = c.read_response();
  Response b = c.read_response();
  ASSERT_TRUE(a.complete && b.complete) << a.error << b.error;
  EXPECT_EQ(sse_data(a.body).size(), 5u);
  EXPECT_EQ(count_words(parse(b.body)["choices"][0]["message"]["content"]), 3);
  EXPECT_EQ(b.header("connection"), "close");
  EXPECT_TRUE(c.wait_eof());
}

TEST(MockApi, TimingHeadersAndTruthLog) {
  std::string truth = temp_path("truth.jsonl");
  MockProcess mock({"--ttft", "80ms", "--itl", "20ms", "--truth", truth});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  Response r =
      c.request(post("/v1/chat/completions", with(kChat, R"("stream":true,"max_tokens":3)")));
  ASSERT_TRUE(r.complete);
  ASSERT_EQ(r.chunks.size(), 6u);
  // Lower bounds only: a loaded machine makes things late, never early.
  EXPECT_GE(r.chunk_ns[1] - r.sent_ns, 80'000'000);
  // Token i is due at first + i * itl (absolute: a late first token does not delay the rest).
  EXPECT_GE(r.chunk_ns[3] - r.sent_ns, 80'000'000 + 2 * 20'000'000);
  std::string id1 = r.header("x-request-id");
  // Per-request override of the timing.
  Response q =
      c.request(post("/v1/chat/completions", with(kChat, R"("stream":true,"max_tokens":2)"),
                     "x-mock-ttft: 1ms\r\nx-mock-itl: 1ms\r\n"));
  ASSERT_TRUE(q.complete);
  c.request(get("/health"));
  EXPECT_EQ(mock.stop(), 0);
  std::ifstream f(truth);
  std::string line;
  std::vector<json> recs;
  while (std::getline(f, line)) recs.push_back(parse(line));
  ASSERT_EQ(recs.size(), 3u);
  json t = recs[0];
  EXPECT_EQ(t["id"], id1);
  EXPECT_EQ(t["tokens"], 3);
  EXPECT_EQ(t["status"], 200);
  EXPECT_EQ(t["stream"], true);
  EXPECT_EQ(t["outcome"], "ok");
  EXPECT_EQ(t["fault"], "none");
  EXPECT_EQ(t["api"], "openai-chat");
  int64_t rec = t["received_ns"], hdr = t["headers_ns"], first = t["first_content_ns"],
          last = t["last_byte_ns"];
  EXPECT_LE(rec, hdr);
  EXPECT_GE(first - rec, 80'000'000);
  EXPECT_GE(last - rec, 80'000'000 + 2 * 20'000'000);
  // The same clock as ours (CLOCK_MONOTONIC): the server's times sit inside the client's.
  EXPECT_GE(rec, r.sent_ns);
  EXPECT_LE(last, r.done_ns);
  // Its wall-clock offset is this host's (another process measured the same two clocks), so its
  // times convert to CLOCK_REALTIME: the request's receipt sits inside the client's wall span.
  const int64_t offset = t["unix_offset_ns"];
  EXPECT_LE(std::llabs(offset - llmload::realtime_offset_ns(llmload::mono_now_ns())), 1'000'000);
  EXPECT_GE(rec + offset, llmload::mono_to_unix_ns(r.sent_ns) - 1'000'000);
  EXPECT_LE(last + offset, llmload::mono_to_unix_ns(r.done_ns) + 1'000'000);
  for (const json& each : recs) EXPECT_NE(each["unix_offset_ns"].get<int64_t>(), 0) << each;
  EXPECT_EQ(recs[1]["id"], q.header("x-request-id"));
  EXPECT_LT(recs[1]["first_content_ns"].get<int64_t>() - recs[1]["received_ns"].get<int64_t>(),
            80'000'000);
  EXPECT_EQ(recs[2]["path"], "/health");
  std::remove(truth.c_str());
}

TEST(MockApi, SameSeedSameText) {
  auto text_of = [](const std::string& seed) {
    MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--seed", seed});
    Client c(mock.port());
    Response r = c.request(
        post("/v1/chat/completions", with(kChat, R"("max_tokens":20)"), "x-mock-seed: 5\r\n"));
    return parse(r.body)["choices"][0]["message"]["content"].get<std::string>();
  };
  std::string a = text_of("3"), b = text_of("3"), c = text_of("4");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(count_words(a), 20);
}

TEST(MockApi, BadFlagsExitTwo) {
  MockProcess mock({"--tokens", "lots"});
  EXPECT_FALSE(mock.ok());
  EXPECT_EQ(mock.stop(), 2);
  EXPECT_NE(mock.stderr_text().find("'lots'"), std::string::npos) << mock.stderr_text();
}
