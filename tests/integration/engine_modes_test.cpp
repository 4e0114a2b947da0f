// The request modes beside a plain stream, each against the in-process mock with its truth log:
//   - cancel: the client closes a share of its streams mid-way on purpose. They count as
//     client_cancelled (requests = ok + failed + client_cancelled), within a binomial bound of
//     the share; their ttft is kept; the mock's truth log shows every close;
//   - output.stream false: one JSON body per request: ttfb and e2e, tokens from the usage, no
//     ttft or itl;
//   - openai-embeddings: batches of inputs; inputs and input tokens counted from the responses,
//     no output tokens, no ttft.
#include <cmath>
#include <cstdio>

#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

int64_t count_outcome(const std::vector<nlohmann::json>& truth, const std::string& outcome) {
  int64_t n = 0;
  for (const auto& t : truth) n += t["outcome"] == outcome ? 1 : 0;
  return n;
}

TEST(EngineModes, CancelClosesAShareOfStreamsAndTheMockSeesEachClose) {
  const std::string truth = temp_file("cancel-truth.jsonl");
  mock::MockOptions mo;
  mo.ttft_ns = 1 * kMs;
  mo.itl_ns = 2 * kMs;  // 30 tokens: ~60 ms per stream, longer than any close below
  mo.truth_file = truth;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  constexpr int64_t kN = 120;
  constexpr double kShare = 0.3;
  Scenario s = make_scenario(server.base_url(), 8, kN);
  s.cancel.share = kShare;
  s.cancel.after = Distribution::uniform(5.0 * kMs, 20.0 * kMs);
  RunOutcome o = run(s, 1, /*rows=*/true, /*max_tokens=*/30);
  server.stop();
  const Counters& c = o.total.counters;

  // The identity, and nothing failed: a close on purpose is no error.
  EXPECT_EQ(c.requests, kN);
  EXPECT_EQ(c.requests, c.ok + c.failed + c.client_cancelled);
  EXPECT_EQ(c.failed, 0) << error_summary(c);
  // Binomial(N, share): mean 36, sd sqrt(N p (1-p)) = 5.02; 5 sd either side (p < 1e-6 of a
  // false alarm; the loop's draws are seeded, so a run repeats anyway).
  const double mean = kN * kShare, sd = std::sqrt(kN * kShare * (1 - kShare));
  EXPECT_GE(double(c.client_cancelled), mean - 5 * sd);
  EXPECT_LE(double(c.client_cancelled), mean + 5 * sd);
  EXPECT_GT(c.client_cancelled, 0);
  // Every stream had its first token (1 ms) before its close (>= 5 ms): ttft kept for all.
  EXPECT_EQ(o.total.count(Metric::kTtft), c.ok + c.client_cancelled);
  // e2e and the other latencies are of ok requests only.
  EXPECT_EQ(o.total.count(Metric::kE2e), c.ok);

  int64_t cancelled_rows = 0;
  for (const RequestRow& r : o.rows) {
    if (!r.client_cancelled) continue;
    ++cancelled_rows;
    EXPECT_FALSE(r.error.has_value());
    EXPECT_EQ(request_outcome(r), "client_cancelled");
    EXPECT_TRUE(r.ttft_us.has_value()) << r.request_id;
    EXPECT_LT(r.output_tokens, 30) << r.request_id;
  }
  EXPECT_EQ(cancelled_rows, c.client_cancelled);

  // The mock saw each close: one client_closed record per cancelled stream, cut short.
  const auto lines = read_truth(truth);
  std::remove(truth.c_str());
  EXPECT_EQ(count_outcome(lines, "client_closed"), c.client_cancelled);
  EXPECT_EQ(count_outcome(lines, "ok"), c.ok);
  for (const auto& t : lines) {
    if (t["outcome"] != "client_closed") {
      EXPECT_EQ(t["closed_ns"].get<int64_t>(), 0);
      continue;
    }
    EXPECT_GE(t["closed_ns"].get<int64_t>(), t["headers_ns"].get<int64_t>()) << t.dump();
    EXPECT_LT(t["tokens"].get<int64_t>(), 30) << t.dump();
  }
}

TEST(EngineModes, CancelShareZeroCancelsNothing) {
  mock::MockOptions mo;
  mo.ttft_ns = 1 * kMs;
  mo.itl_ns = 1 * kMs;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 4, 20);
  s.cancel.share = 0;
  RunOutcome o = run(s, 1, false, 8);
  server.stop();
  EXPECT_EQ(o.total.counters.ok, 20) << error_summary(o.total.counters);
  EXPECT_EQ(o.total.counters.client_cancelled, 0);
}

TEST(EngineModes, NonStreamedResponsesHaveNoTtftAndUsageTokens) {
  const std::string truth = temp_file("nonstream-truth.jsonl");
  mock::MockOptions mo;
  mo.ttft_ns = 2 * kMs;
  mo.itl_ns = 1 * kMs;
  mo.truth_file = truth;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  for (Api api : {Api::kOpenAiChat, Api::kOpenAiCompletions, Api::kOllamaChat, Api::kOllamaGenerate,
                  Api::kAnthropicMessages}) {
    SCOPED_TRACE(std::string(api_name(api)));
    Scenario s = make_scenario(server.base_url(), 4, 24);
    s.targets[0].api = api;
    s.output.stream = false;
    RunOutcome o = run(s, 1, /*rows=*/true, /*max_tokens=*/12);
    const Counters& c = o.total.counters;
    EXPECT_EQ(c.ok, 24) << error_summary(c);
    EXPECT_EQ(o.total.count(Metric::kTtft), 0);
    EXPECT_EQ(o.total.count(Metric::kTtfo), 0);
    EXPECT_EQ(o.total.count(Metric::kItl), 0);
    EXPECT_EQ(o.total.count(Metric::kTpot), 0);
    EXPECT_EQ(o.total.count(Metric::kTtfb), 24);
    EXPECT_EQ(o.total.count(Metric::kE2e), 24);
    // Tokens from the body's usage, every one.
    EXPECT_EQ(c.tokens_from_usage, 24);
    EXPECT_EQ(c.output_tokens, 24 * 12);
    EXPECT_EQ(o.client.token_reads, 0);
    for (const RequestRow& r : o.rows) {
      EXPECT_FALSE(r.ttft_us.has_value());
      EXPECT_TRUE(r.e2e_us.has_value());
      EXPECT_EQ(r.tokens_source, TokensSource::kUsage);
    }
  }
  server.stop();
  // The mock answered every request unstreamed.
  const auto lines = read_truth(truth);
  std::remove(truth.c_str());
  ASSERT_EQ(lines.size(), 5u * 24u);
  for (const auto& t : lines) EXPECT_FALSE(t["stream"].get<bool>()) << t.dump();
}

TEST(EngineModes, EmbeddingsCountInputsAndInputTokens) {
  const std::string truth = temp_file("embeddings-truth.jsonl");
  mock::MockOptions mo;
  mo.ttft_ns = 2 * kMs;
  mo.truth_file = truth;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  constexpr int64_t kN = 30, kBatch = 4;
  Scenario s = make_scenario(server.base_url(), 4, kN);
  s.targets[0].api = Api::kOpenAiEmbeddings;
  s.output.batch = kBatch;
  RunOutcome o = run(s, 1, /*rows=*/true, /*max_tokens=*/0);
  server.stop();
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.ok, kN) << error_summary(c);
  EXPECT_EQ(c.inputs, kN * kBatch);
  // Every prompt is "tell me a story number i": 6 words, 6 tokens to the mock.
  EXPECT_EQ(c.input_tokens, kN * kBatch * 6);
  EXPECT_EQ(c.output_tokens, 0);
  EXPECT_EQ(o.total.count(Metric::kTtft), 0);
  EXPECT_EQ(o.total.count(Metric::kE2e), kN);
  const auto lines = read_truth(truth);
  std::remove(truth.c_str());
  ASSERT_EQ(lines.size(), size_t(kN));
  for (const auto& t : lines) {
    EXPECT_EQ(t["api"], "openai-embeddings");
    EXPECT_EQ(t["path"], "/v1/embeddings");
    EXPECT_EQ(t["prompt_tokens"].get<int64_t>(), kBatch * 6);
    EXPECT_EQ(t["tokens"].get<int64_t>(), 0);
  }
}

}  // namespace
}  // namespace llmload
