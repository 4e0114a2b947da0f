// Measured timing against the mock's ground truth, per request, joined on the request id
// (requests.csv's request_id is the server's x-request-id): the client's interval from the
// response headers to the first content token (ttft − ttfb) against the server's (first content
// written − headers written), and the decode phase (e2e − ttft) against (last byte − first
// content). Bounds are generous for a loaded 2-core CI machine: the bench measures the real
// accuracy (docs/benchmarks.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

struct Errors {
  std::vector<int64_t> abs_us;
  int64_t p50() {
    std::sort(abs_us.begin(), abs_us.end());
    return abs_us.empty() ? -1 : abs_us[abs_us.size() / 2];
  }
  int64_t max() const {
    return abs_us.empty() ? -1 : *std::max_element(abs_us.begin(), abs_us.end());
  }
};

TEST(EngineTruthSmoke, TtftAndDecodeMatchTheMocksTruthPerRequest) {
  const std::string truth = temp_file("truth.jsonl");
  mock::MockOptions mo;
  mo.ttft_ns = 25 * kMs;
  mo.itl_ns = 3 * kMs;
  mo.truth_file = truth;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 4, 60);
  RunOutcome o = run(s, 1, /*rows=*/true, /*max_tokens=*/12);
  server.stop();
  const Counters& c = o.total.counters;
  ASSERT_EQ(c.ok, 60) << "errors: " << error_summary(c);

  std::map<std::string, nlohmann::json> by_id;
  for (auto& l : read_truth(truth)) by_id[l["id"].get<std::string>()] = l;
  std::remove(truth.c_str());
  ASSERT_EQ(by_id.size(), 60u);

  Errors first_token, decode;
  size_t joined = 0;
  for (const RequestRow& r : o.rows) {
    auto it = by_id.find(r.request_id);
    ASSERT_NE(it, by_id.end()) << "request id " << r.request_id << " not in the truth log";
    const nlohmann::json& t = it->second;
    ASSERT_TRUE(r.ttfb_us && r.ttft_us && r.e2e_us) << r.request_id;
    ++joined;
    const int64_t server_first_us =
        (t["first_content_ns"].get<int64_t>() - t["headers_ns"].get<int64_t>()) / 1000;
    const int64_t server_decode_us =
        (t["last_byte_ns"].get<int64_t>() - t["first_content_ns"].get<int64_t>()) / 1000;
    // The mock's 25 ms TTFT runs from the request's receipt; its headers leave a little after
    // that (more under a sanitizer on a loaded machine), so from the headers the first token
    // comes a little under 25 ms, never much under (later tokens keep their intended times, so a
    // late first token shortens the server's decode interval: no bound on that here).
    EXPECT_GE(server_first_us, 25'000 - 5'000);
    first_token.abs_us.push_back(std::llabs((*r.ttft_us - *r.ttfb_us) - server_first_us));
    decode.abs_us.push_back(std::llabs((*r.e2e_us - *r.ttft_us) - server_decode_us));
    EXPECT_EQ(r.output_tokens, t["tokens"].get<int64_t>());
  }
  EXPECT_EQ(joined, 60u);
  std::printf(
      "client vs truth, |error| us: first token p50 %lld max %lld; decode p50 %lld max %lld\n",
      static_cast<long long>(first_token.p50()), static_cast<long long>(first_token.max()),
      static_cast<long long>(decode.p50()), static_cast<long long>(decode.max()));
  EXPECT_LE(first_token.p50(), 5'000) << "|client (ttft - ttfb) - server| p50, us";
  EXPECT_LE(first_token.max(), 50'000) << "max, us";
  EXPECT_LE(decode.p50(), 5'000) << "|client (e2e - ttft) - server| p50, us";
  EXPECT_LE(decode.max(), 50'000);

  // ITL: 11 gaps per request, each about the mock's 3 ms.
  EXPECT_EQ(o.total.count(Metric::kItl), 60 * 11);
  const HdrHistogram* itl = o.total.histogram(Metric::kItl);
  ASSERT_NE(itl, nullptr);
  EXPECT_GE(itl->value_at_percentile(50), 2'500);
  EXPECT_LE(itl->value_at_percentile(50), 3'000 + 2'000);
}

}  // namespace
}  // namespace llmload
