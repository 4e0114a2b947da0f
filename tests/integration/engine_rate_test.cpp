// Open-loop rate accuracy end to end, seen from the server: the mock's truth log holds when each
// request arrived. Constant rate: the count and the mean gap match the rate (±10%) and the gaps
// are regular, also when two loops share the rate (offset arrivals merge evenly). Poisson: the
// count within a few sigma and gaps as irregular as an exponential's (coefficient of variation
// near 1).
#include <algorithm>
#include <cmath>

#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

struct Arrivals {
  size_t count = 0;
  double mean_gap_ms = 0;
  double cv = 0;  // standard deviation / mean of the gaps
};

// Arrival times (received_ns) of the generation requests in the truth log.
Arrivals arrivals(const std::string& truth) {
  std::vector<int64_t> t;
  for (const auto& l : read_truth(truth))
    if (l["path"] == "/v1/chat/completions") t.push_back(l["received_ns"].get<int64_t>());
  std::sort(t.begin(), t.end());
  Arrivals a;
  a.count = t.size();
  if (t.size() < 3) return a;
  std::vector<double> gaps;
  for (size_t i = 1; i < t.size(); ++i) gaps.push_back(double(t[i] - t[i - 1]) / 1e6);
  double sum = 0, sq = 0;
  for (double g : gaps) sum += g;
  a.mean_gap_ms = sum / double(gaps.size());
  for (double g : gaps) sq += (g - a.mean_gap_ms) * (g - a.mean_gap_ms);
  a.cv = std::sqrt(sq / double(gaps.size())) / a.mean_gap_ms;
  return a;
}

struct RateRun {
  RunOutcome outcome;
  Arrivals seen;
};

RateRun run_rate(double rate, Arrival arrival, int threads, const std::string& name) {
  const std::string truth = temp_file(name + ".jsonl");
  mock::MockOptions mo;
  mo.ttft_ns = 2 * kMs;
  mo.itl_ns = 1 * kMs;
  mo.truth_file = truth;
  mock::MockServer server(mo);
  RateRun r;
  if (!server.start().ok()) {
    ADD_FAILURE() << "mock did not start";
    return r;
  }
  Scenario s = make_scenario(server.base_url(), 1, 0);
  s.load.mode = LoadMode::kRate;
  s.load.rate = rate;
  s.load.arrival = arrival;
  s.load.requests = 0;
  s.load.duration_ns = 2'000 * kMs;
  s.seed = 7;
  r.outcome = run(s, threads, false, 4);
  server.stop();  // flushes the truth log
  r.seen = arrivals(truth);
  std::remove(truth.c_str());
  return r;
}

TEST(EngineRateSmoke, ConstantRateCountAndSpacing) {
  RateRun r = run_rate(50, Arrival::kConstant, 1, "constant");
  const Counters& c = r.outcome.total.counters;
  EXPECT_EQ(c.failed, 0) << "errors: " << error_summary(c);
  EXPECT_EQ(c.dropped, 0);
  // 50 req/s for 2 s: 100 requests, 20 ms apart.
  EXPECT_NEAR(double(r.seen.count), 100, 10);
  EXPECT_EQ(int64_t(r.seen.count), c.requests) << "the server saw exactly what was measured";
  EXPECT_NEAR(r.seen.mean_gap_ms, 20, 2);
  EXPECT_LT(r.seen.cv, 0.4) << "constant arrivals are regular";
  EXPECT_EQ(r.outcome.total.count(Metric::kQueue), c.ok);
}

TEST(EngineRate, ConstantRateSplitOverTwoLoopsMergesEvenly) {
  RateRun r = run_rate(50, Arrival::kConstant, 2, "constant2");
  const Counters& c = r.outcome.total.counters;
  EXPECT_EQ(c.failed, 0) << "errors: " << error_summary(c);
  EXPECT_NEAR(double(r.seen.count), 100, 10);
  EXPECT_NEAR(r.seen.mean_gap_ms, 20, 2);
  // Two loops at 25/s each, offset by 1/R: gaps of 20 ms, not pairs of (0, 40).
  EXPECT_LT(r.seen.cv, 0.4);
}

TEST(EngineRate, PoissonCountWithinSigmaAndIrregularGaps) {
  RateRun r = run_rate(50, Arrival::kPoisson, 2, "poisson");
  const Counters& c = r.outcome.total.counters;
  EXPECT_EQ(c.failed, 0) << "errors: " << error_summary(c);
  EXPECT_EQ(c.dropped, 0);
  // Poisson count over 2 s at 50/s: mean 100, sigma 10; four sigma either side.
  EXPECT_GE(r.seen.count, 60u);
  EXPECT_LE(r.seen.count, 140u);
  EXPECT_EQ(int64_t(r.seen.count), c.requests);
  // Exponential gaps: coefficient of variation 1 (a constant process would be near 0).
  EXPECT_GT(r.seen.cv, 0.6);
  EXPECT_LT(r.seen.cv, 1.5);
}

// Over the max-in-flight cap an arrival is dropped and counted, never silent: 50/s for 1 s
// against 600 ms responses with at most 5 in flight starts only a few; every other arrival is
// in `dropped`, and the server saw exactly the started ones.
TEST(EngineRate, ArrivalsOverTheInFlightCapAreCountedAsDropped) {
  const std::string truth = temp_file("capped.jsonl");
  mock::MockOptions mo;
  mo.ttft_ns = 600 * kMs;
  mo.itl_ns = 1 * kMs;
  mo.truth_file = truth;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 1, 0);
  s.load.mode = LoadMode::kRate;
  s.load.rate = 50;
  s.load.requests = 0;
  s.load.duration_ns = 1'000 * kMs;
  s.load.max_in_flight = 5;
  RunOutcome o = run(s, 1, false, 4);
  server.stop();
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.failed, 0) << "errors: " << error_summary(c);
  // At most 5 at once, each ~600 ms: two waves of 5 in a 1 s window at most.
  EXPECT_GE(c.requests, 5);
  EXPECT_LE(c.requests, 10);
  EXPECT_NEAR(double(c.requests + c.dropped), 50, 5) << "every arrival is started or dropped";
  Arrivals seen = arrivals(truth);
  std::remove(truth.c_str());
  EXPECT_EQ(int64_t(seen.count), c.requests);
}

}  // namespace
}  // namespace llmload
