// Keep-alive end to end: requests reuse pooled connections (the mock accepts far fewer
// connections than it serves requests), and a keep-alive connection the server drops when the
// next request arrives (the mock's drop_next fault: a server's idle timeout racing a request)
// makes that request go again, once, on a fresh connection: counted as a retry, not an error.
#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

mock::MockOptions fast_mock(const std::string& truth = "") {
  mock::MockOptions o;
  o.ttft_ns = 2 * kMs;
  o.itl_ns = 1 * kMs;
  o.truth_file = truth;
  return o;
}

TEST(EngineKeepAliveSmoke, RequestsReuseConnections) {
  const std::string truth = temp_file("reuse.jsonl");
  mock::MockServer server(fast_mock(truth));
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 4, 60);
  RunOutcome o = run(s, 2);
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.ok, 60) << "errors: " << error_summary(c);
  EXPECT_EQ(c.retries, 0);
  const mock::MockStats st = server.stats();
  server.stop();
  // 4 users on 2 loops need 4 connections (a few pre-opened extras at most), never one each.
  EXPECT_LE(st.connections, 8u);
  EXPECT_LT(st.connections * 5, st.requests);
  // Only requests on a new connection record a connect time: at most one per connection.
  EXPECT_LE(o.total.count(Metric::kConnect), int64_t(st.connections));
  // The truth log saw every request, each answered ok.
  auto lines = read_truth(truth);
  EXPECT_EQ(lines.size(), 60u);
  for (const auto& l : lines) EXPECT_EQ(l["outcome"], "ok") << l.dump();
  std::remove(truth.c_str());
}

// Every response carries drop_next, so every reuse of a connection meets a server that drops
// the request and closes: that request is re-sent once on a fresh connection and succeeds.
// One user, N requests: the first goes on a fresh connection; each of the N - 1 others first
// meets the dropped connection, then goes on a fresh one. N ok, N - 1 retries, no error.
TEST(EngineKeepAliveSmoke, StaleConnectionIsRetriedOnceAndCountedAsRetry) {
  const std::string truth = temp_file("drop.jsonl");
  mock::MockServer server(fast_mock(truth));
  ASSERT_TRUE(server.start().ok());
  const int64_t n = 12;
  Scenario s = make_scenario(server.base_url(), 1, n);
  add_header(s, "x-mock-fault", "drop_next");
  RunOutcome o = run(s, 1, true);
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.requests, n);
  EXPECT_EQ(c.ok, n) << "errors: " << error_summary(c);
  EXPECT_EQ(c.failed, 0);
  EXPECT_EQ(all_errors(c), 0) << "errors: " << error_summary(c);
  EXPECT_EQ(c.retries, n - 1);
  ASSERT_EQ(o.rows.size(), size_t(n));
  int with_connect = 0;
  for (const RequestRow& r : o.rows) {
    EXPECT_FALSE(r.error.has_value());
    EXPECT_EQ(r.output_tokens, 16);
    with_connect += r.connect_us.has_value();
  }
  // Each retried request opened the fresh connection it ended on, so it has a connect time
  // (the first request may have used a connection opened before the start: none then).
  EXPECT_GE(with_connect, n - 1);
  const mock::MockStats st = server.stats();
  server.stop();
  // The server saw each retried request twice: once dropped, once answered.
  EXPECT_EQ(st.requests, uint64_t(2 * n - 1));
  auto lines = read_truth(truth);
  int dropped = 0, ok = 0;
  for (const auto& l : lines) {
    dropped += l["outcome"] == "dropped";
    ok += l["outcome"] == "ok";
  }
  EXPECT_EQ(dropped, n - 1);
  EXPECT_EQ(ok, n);
  std::remove(truth.c_str());
}

// The same over TLS: the server's close comes without close_notify, under a request written on
// an idle TLS connection: a retry (with a fresh handshake), not a `truncated` or `tls` error.
TEST(EngineKeepAlive, StaleTlsConnectionIsRetriedToo) {
  mock::MockOptions mo = fast_mock();
  mo.tls = true;
  mo.cert_out_file = temp_file("drop-cert.pem");
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  ASSERT_EQ(server.base_url().rfind("https://", 0), 0u) << server.base_url();
  const int64_t n = 8;
  Scenario s = make_scenario(server.base_url(), 1, n);
  s.targets[0].tls.ca_file = server.cert_file();
  add_header(s, "x-mock-fault", "drop_next");
  RunOutcome o = run(s, 1);
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.ok, n) << "errors: " << error_summary(c);
  EXPECT_EQ(all_errors(c), 0) << "errors: " << error_summary(c);
  EXPECT_EQ(c.retries, n - 1);
  // Every request ended on a connection of its own: each reports a handshake.
  EXPECT_EQ(o.total.count(Metric::kTls), n);
  server.stop();
  std::remove(mo.cert_out_file.c_str());
}

// The retry happens once: with two users and drops on every reuse, still no request fails and
// every retry is counted; the retried request's timing starts at its second write (its ttft is
// the mock's, not inflated by the dropped attempt).
TEST(EngineKeepAlive, RetriesUnderConcurrencyStayExact) {
  mock::MockOptions mo = fast_mock();
  mo.ttft_ns = 30 * kMs;
  mock::MockServer server(mo);
  ASSERT_TRUE(server.start().ok());
  const int64_t n = 30;
  Scenario s = make_scenario(server.base_url(), 3, n);
  add_header(s, "x-mock-fault", "drop_next");
  RunOutcome o = run(s, 1);
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.ok, n) << "errors: " << error_summary(c);
  EXPECT_EQ(c.failed, 0);
  const mock::MockStats st = server.stats();
  server.stop();
  // Every request the server dropped was retried, and nothing else was.
  EXPECT_EQ(c.retries, int64_t(st.requests) - n);
  EXPECT_GE(c.retries, n - 3 - 3);  // at most the pre-opened connections' first uses skip one
  const HdrHistogram* ttft = o.total.histogram(Metric::kTtft);
  ASSERT_NE(ttft, nullptr);
  EXPECT_GE(ttft->value_at_percentile(50), 29'000);
  EXPECT_LE(ttft->value_at_percentile(50), 30'000 + 25'000);  // a bug adding 50 ms fails
}

}  // namespace
}  // namespace llmload
