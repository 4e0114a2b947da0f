// Every fault of `llmload mock`, by header and at a rate, and its capacity limit, checked on the
// wire with a plain socket client.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/mock_test_util.h"

using nlohmann::json;
using namespace mocktest;

namespace {
const std::string kStream =
    R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":6})";

Response faulted(MockProcess& mock, const std::string& fault, int timeout_ms = 10000,
                 const std::string& extra = "") {
  Client c(mock.port(), timeout_ms);
  return c.request(post("/v1/chat/completions", kStream,
                        "x-mock-fault: " + fault + "\r\nx-mock-fault-after: 2\r\n" + extra));
}

int token_events(const Response& r) {
  int n = 0;
  for (const auto& d : sse_data(r.body)) {
    json e = json::parse(d, nullptr, false);
    if (!e.is_discarded() && e.contains("choices") && !e["choices"].empty() &&
        e["choices"][0]["delta"].contains("content") && e["choices"][0]["delta"]["content"] != "")
      ++n;
  }
  return n;
}
}  // namespace

class MockFaults : public ::testing::Test {
 protected:
  MockProcess mock{{"--ttft", "2ms", "--itl", "2ms", "--fault-delay", "300ms", "--drip", "200us",
                    "--huge-line-bytes", "1500000"}};
};

TEST_F(MockFaults, SmokeResetMidStream) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "reset");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.error, "reset");
  EXPECT_EQ(token_events(r), 2);
}

TEST_F(MockFaults, TruncatedClosesWithoutTerminator) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "truncated");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.error, "eof");
  EXPECT_EQ(token_events(r), 2);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(MockFaults, StallAfterHeadersAndMidStream) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "stall_headers", 500);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "timeout");
  EXPECT_EQ(token_events(r), 0);
  EXPECT_EQ(r.chunks.size(), 1u);  // the role chunk only
  r = faulted(mock, "stall_mid", 500);
  EXPECT_EQ(r.error, "timeout");
  EXPECT_EQ(token_events(r), 2);
}

TEST_F(MockFaults, HttpErrors) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "http429");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(json::parse(r.body)["error"]["code"], 429);
  EXPECT_EQ(faulted(mock, "http500").status, 500);
  r = faulted(mock, "http503");
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(json::parse(r.body)["error"]["message"].is_string());
}

TEST_F(MockFaults, MalformedChunkThenStreamGoesOn) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "malformed");
  ASSERT_TRUE(r.complete);
  int bad = 0;
  for (const auto& d : sse_data(r.body))
    if (d != "[DONE]" && json::parse(d, nullptr, false).is_discarded()) ++bad;
  EXPECT_EQ(bad, 1);
  EXPECT_EQ(token_events(r), 6);
  EXPECT_EQ(sse_data(r.body).back(), "[DONE]");
}

TEST_F(MockFaults, ErrorObjectInsideTheStream) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "error_event");
  ASSERT_TRUE(r.complete);
  auto ev = sse_data(r.body);
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev.back(), "[DONE]");
  json err = json::parse(ev[ev.size() - 2]);
  EXPECT_TRUE(err["error"]["message"].is_string());
  EXPECT_EQ(token_events(r), 2);
  // Anthropic: an `error` event.
  Client c(mock.port());
  r = c.request(post(
      "/v1/messages",
      R"({"model":"c","max_tokens":4,"stream":true,"messages":[{"role":"user","content":"q"}]})",
      "x-mock-fault: error_event\r\nx-mock-fault-after: 1\r\n"));
  EXPECT_NE(r.body.find("event: error\n"), std::string::npos);
}

TEST_F(MockFaults, HugeLine) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "huge_line");
  ASSERT_TRUE(r.complete) << r.error;
  size_t longest = 0;
  for (const auto& l : lines(r.body)) longest = std::max(longest, l.size());
  EXPECT_GT(longest, 1'500'000u);
  EXPECT_EQ(sse_data(r.body).back(), "[DONE]");
}

TEST_F(MockFaults, SlowHeaders) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "slow_headers");
  ASSERT_TRUE(r.complete);
  EXPECT_GE(r.headers_ns - r.sent_ns, 300'000'000);
  EXPECT_EQ(token_events(r), 6);
}

TEST_F(MockFaults, DripTricklesTheWholeResponse) {
  ASSERT_TRUE(mock.ok());
  Response r = faulted(mock, "drip", 20000);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(token_events(r), 6);
  EXPECT_EQ(sse_data(r.body).back(), "[DONE]");
  // 200 us per byte at least (never early): the body alone is over 1500 bytes.
  EXPECT_GT(r.body.size(), 1500u);
  EXPECT_GE(r.done_ns - r.sent_ns, int64_t(r.body.size()) * 200'000 - 1'000'000);
}

TEST(MockDropNext, NextRequestOnTheConnectionIsDroppedWithoutAnAnswer) {
  std::string truth = temp_path("drop-next.jsonl");
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--truth", truth});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port(), 5000);
  // The first response is normal and keep-alive.
  Response first = faulted(mock, "none");  // another connection: untouched by the fault
  ASSERT_TRUE(first.complete);
  Response r = c.request(post("/v1/chat/completions", kStream, "x-mock-fault: drop_next\r\n"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(token_events(r), 6);
  EXPECT_EQ(r.header("connection").find("close"), std::string::npos);
  // The connection is still open while idle...
  c.set_timeout(200);
  EXPECT_FALSE(c.wait_eof());
  c.set_timeout(5000);
  // ...and the next request on it gets no answer: a clean close.
  Response dropped = c.request(post("/v1/chat/completions", kStream));
  EXPECT_EQ(dropped.status, 0);
  EXPECT_EQ(dropped.error, "eof");
  // A fresh connection is served normally.
  Response fresh = faulted(mock, "none");
  EXPECT_TRUE(fresh.complete);
  EXPECT_EQ(mock.stop(), 0);
  std::ifstream f(truth);
  int dropped_lines = 0, lines_seen = 0;
  for (std::string line; std::getline(f, line); ++lines_seen) {
    json j = json::parse(line);
    if (j["outcome"] == "dropped") {
      ++dropped_lines;
      EXPECT_EQ(j["fault"], "drop_next");
      EXPECT_EQ(j["status"], 0);
    }
  }
  EXPECT_EQ(lines_seen, 4);
  EXPECT_EQ(dropped_lines, 1);
  std::remove(truth.c_str());
}

TEST(MockFaultRate, RateAndKindsFromTheCommandLine) {
  std::string truth = temp_path("faults.jsonl");
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--fault-rate", "0.5", "--faults",
                    "http429,http503", "--truth", truth});
  ASSERT_TRUE(mock.ok());
  Client c(mock.port());
  int ok = 0, e429 = 0, e503 = 0;
  for (int i = 0; i < 200; ++i) {
    Response r = c.request(post("/v1/chat/completions",
                                R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1})"));
    ASSERT_TRUE(r.complete);
    ok += r.status == 200;
    e429 += r.status == 429;
    e503 += r.status == 503;
  }
  EXPECT_EQ(ok + e429 + e503, 200);
  EXPECT_GT(ok, 60);
  EXPECT_GT(e429, 20);
  EXPECT_GT(e503, 20);
  EXPECT_EQ(mock.stop(), 0);
  std::ifstream f(truth);
  std::string line;
  int faults = 0;
  while (std::getline(f, line)) faults += json::parse(line)["fault"] != "none";
  EXPECT_EQ(faults, e429 + e503);
  std::remove(truth.c_str());
}

TEST(MockCapacity, RefusesBeyondTheLimit) {
  MockProcess mock({"--ttft", "1ms", "--itl", "100ms", "--tokens", "20", "--max-streams", "2",
                    "--over-capacity", "429"});
  ASSERT_TRUE(mock.ok());
  Client a(mock.port()), b(mock.port()), c(mock.port());
  const std::string req =
      post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"stream":true})");
  ASSERT_TRUE(a.send_all(req));
  ASSERT_TRUE(b.send_all(req));
  usleep(200'000);  // both streams have begun before the third asks
  Response rc = c.request(req);
  EXPECT_EQ(rc.status, 429);
  EXPECT_EQ(rc.header("retry-after"), "1");
  Response ra = a.read_response();
  EXPECT_EQ(ra.status, 200);
  EXPECT_TRUE(ra.complete);
  // A slot is free again.
  Response again = c.request(post(
      "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1})"));
  EXPECT_EQ(again.status, 200);
}

TEST(MockCapacity, QueuesAndTtftGrowsWithLoad) {
  std::string truth = temp_path("capacity.jsonl");
  MockProcess mock({"--ttft", "50ms", "--itl", "10ms", "--max-streams", "1", "--truth", truth});
  ASSERT_TRUE(mock.ok());
  Client a(mock.port()), b(mock.port());
  const std::string req =
      post("/v1/chat/completions",
           R"({"messages":[{"role":"user","content":"x"}],"stream":true,"max_tokens":5})");
  ASSERT_TRUE(a.send_all(req));
  usleep(20'000);
  ASSERT_TRUE(b.send_all(req));
  Response rb = b.read_response();
  Response ra = a.read_response();
  ASSERT_TRUE(ra.complete && rb.complete);
  // b's headers came at once (the request was read); its first token only after a finished
  // (checked on the server's own clock below).
  EXPECT_LT(rb.headers_ns, ra.done_ns);
  EXPECT_EQ(mock.stop(), 0);
  std::ifstream f(truth);
  std::string line;
  std::vector<json> recs;
  while (std::getline(f, line)) recs.push_back(json::parse(line));
  ASSERT_EQ(recs.size(), 2u);
  const json& first = recs[0]["queued"] == false ? recs[0] : recs[1];
  const json& second = recs[0]["queued"] == true ? recs[0] : recs[1];
  EXPECT_EQ(second["queued"], true);
  EXPECT_GE(second["started_ns"].get<int64_t>(), first["last_byte_ns"].get<int64_t>());
  EXPECT_GE(second["first_content_ns"].get<int64_t>() - second["received_ns"].get<int64_t>(),
            50'000'000 + 40'000'000);
  std::remove(truth.c_str());
}
