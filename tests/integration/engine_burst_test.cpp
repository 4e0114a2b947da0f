// 2,000 streams started in the same instant (issue: "requests written late, timed from
// before"): every request must be written as soon as its connection is ready, and nothing it
// waited for before its first byte was written may be inside ttfb, ttft or e2e. Checked per
// request against the mock's truth log (CLOCK_MONOTONIC, the clock the engine measures with):
// the server received each request within a bound of when the client says it wrote it, and no
// ttfb reaches 1 s (the mock answers headers at receipt, first token 50 ms later). The wait
// before the write is its own figure (`wait`), never hidden in the others.
//
// Repeated in-process with one loop and with two, with the start instant both before and after
// the connections opened ahead of load are ready, because the fault this guards against was
// intermittent. Every run is bounded in requests and time.
#include <algorithm>
#include <cstdio>
#include <map>

#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

struct BurstCase {
  int threads;
  int64_t start_in_ms;  // start instant from now: 50 ms (connections still opening) or 1.5 s
};

class EngineBurst : public ::testing::TestWithParam<BurstCase> {};

TEST_P(EngineBurst, TwoThousandStreamsAreWrittenAtOnceAndTimedFromTheWrite) {
  const BurstCase bc = GetParam();
  constexpr int kStreams = 2000;
  constexpr int kRuns = 3;
  for (int run_no = 0; run_no < kRuns; ++run_no) {
    SCOPED_TRACE("run " + std::to_string(run_no + 1) + " of " + std::to_string(kRuns));
    const std::string truth = temp_file("burst-truth-" + std::to_string(run_no) + ".jsonl");
    mock::MockOptions mo;
    mo.ttft_ns = 50 * kMs;
    mo.itl_ns = 10 * kMs;
    mo.truth_file = truth;
    mock::MockServer server(mo);
    ASSERT_TRUE(server.start().ok());
    Scenario s = make_scenario(server.base_url(), kStreams, kStreams);  // one full wave
    RunOutcome o = run(s, bc.threads, /*rows=*/true, /*max_tokens=*/8, /*max_seconds=*/60,
                       bc.start_in_ms * kMs);
    server.stop();
    const Counters& c = o.total.counters;
    ASSERT_EQ(c.ok, kStreams) << "errors: " << error_summary(c);
    ASSERT_EQ(o.rows.size(), size_t(kStreams));
    // The wait before the write is recorded for every request, as its own histogram.
    const HdrHistogram* wait = o.total.histogram(Metric::kWait);
    ASSERT_NE(wait, nullptr);
    EXPECT_EQ(wait->total_count(), kStreams);

    std::map<std::string, nlohmann::json> by_id;
    for (auto& l : read_truth(truth)) by_id[l["id"].get<std::string>()] = l;
    std::remove(truth.c_str());

    int64_t worst_ttfb_us = 0, worst_gap_us = 0;
    int over = 0;
    for (const RequestRow& r : o.rows) {
      ASSERT_TRUE(r.ttfb_us && r.wait_us) << r.request_id;
      worst_ttfb_us = std::max(worst_ttfb_us, *r.ttfb_us);
      if (*r.ttfb_us >= 1'000'000) ++over;
      auto it = by_id.find(r.request_id);
      ASSERT_NE(it, by_id.end()) << r.request_id << " not in the truth log";
      // The client's ttfb against the server's own receipt-to-headers time: what the client
      // timed but the server never saw is time the request spent unwritten or in flight.
      const nlohmann::json& t = it->second;
      const int64_t server_us =
          (t["headers_ns"].get<int64_t>() - t["received_ns"].get<int64_t>()) / 1000;
      worst_gap_us = std::max(worst_gap_us, *r.ttfb_us - server_us);
    }
    std::printf(
        "threads %d, start +%lld ms, run %d: ttfb max %.3f ms; client ttfb - server "
        "(headers - received) max %.3f ms; wait p50 %.3f max %.3f ms\n",
        bc.threads, static_cast<long long>(bc.start_in_ms), run_no + 1, double(worst_ttfb_us) / 1e3,
        double(worst_gap_us) / 1e3, double(wait->value_at_percentile(50)) / 1e3,
        double(wait->max()) / 1e3);
    EXPECT_EQ(over, 0) << over << " requests with ttfb >= 1 s (worst " << worst_ttfb_us / 1000
                       << " ms)";
    EXPECT_LT(worst_gap_us, 1'000'000) << "a request was timed from before it reached the server";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, EngineBurst,
                         ::testing::Values(BurstCase{1, 50}, BurstCase{1, 1500}, BurstCase{2, 50},
                                           BurstCase{2, 1500}),
                         [](const ::testing::TestParamInfo<BurstCase>& i) {
                           return "threads" + std::to_string(i.param.threads) + "_start" +
                                  std::to_string(i.param.start_in_ms) + "ms";
                         });

}  // namespace
}  // namespace llmload
