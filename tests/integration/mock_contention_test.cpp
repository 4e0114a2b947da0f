// The mock's contention past a knee (--contention-streams K --contention-itl D, docs/mock.md
// "Capacity"): a request that starts while more than K streams generate gets D more gap between
// tokens per stream beyond K. Checked on the gap the mock reports in its llama.cpp-style
// `timings` (predicted_ms = (tokens - 1) × gap), which is exact, not on the wall clock.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/mock_test_util.h"

using nlohmann::json;
using namespace mocktest;

namespace {

std::string chat(int max_tokens) {
  return post("/v1/chat/completions",
              R"({"model":"m","messages":[{"role":"user","content":"one two"}],"stream":true,)"
              R"("max_tokens":)" +
                  std::to_string(max_tokens) + "}");
}

// predicted_ms of a finished stream's final chunk (usage final), -1 when absent.
double predicted_ms(const Response& r) {
  for (const std::string& ev : sse_data(r.body)) {
    json j = json::parse(ev, nullptr, false);
    if (j.is_object() && j.contains("timings")) return j["timings"]["predicted_ms"].get<double>();
  }
  return -1;
}

TEST(MockContention, EachStreamBeyondTheKneeSlowsAStartingRequest) {
  MockProcess mock({"--ttft", "1ms", "--itl", "1ms", "--usage", "final", "--contention-streams",
                    "1", "--contention-itl", "2ms"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines() << mock.stderr_text();
  // Alone (1 stream, not beyond the knee): the plain gap, 4 gaps of 1 ms.
  Client alone(mock.port());
  Response r = alone.request(chat(5));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_DOUBLE_EQ(predicted_ms(r), 4.0) << r.body;
  // Two long streams hold the loop (the first at 1 ms a token for ~2 s, the second, started
  // while the first runs, at 1 + 2 ms); a third starting now is the third stream: 1 + 2 × 2 ms.
  Client a(mock.port()), b(mock.port()), c(mock.port());
  ASSERT_TRUE(a.send_all(chat(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(b.send_all(chat(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  r = c.request(chat(5));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_DOUBLE_EQ(predicted_ms(r), 4 * 5.0) << r.body;
}

TEST(MockContention, OffByDefaultAndRefusesANegativeGap) {
  MockProcess plain({"--ttft", "1ms", "--itl", "1ms", "--usage", "final"});
  ASSERT_TRUE(plain.ok());
  Client a(plain.port()), c(plain.port());
  ASSERT_TRUE(a.send_all(chat(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Response r = c.request(chat(5));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_DOUBLE_EQ(predicted_ms(r), 4.0) << r.body;
  MockProcess bad({"--contention-itl", "-1ms"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.stderr_text().find("--contention-itl"), std::string::npos) << bad.stderr_text();
}

}  // namespace
