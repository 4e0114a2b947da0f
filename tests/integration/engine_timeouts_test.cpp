// Each of the engine's four timeouts end to end (DESIGN.md "Metrics": connect, ttft, idle
// between chunks, total), each giving its own error kind and nothing else, at about the time it
// was set to; and the same slow responses completing ok when the timeouts allow them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

mock::MockOptions fast_mock() {
  mock::MockOptions o;
  o.ttft_ns = 5 * kMs;
  o.itl_ns = 1 * kMs;
  return o;
}

// Every request failed, all of `kind`; the rest of the counters say nothing else happened.
void expect_only(const RunOutcome& o, ErrorKind kind, int64_t n) {
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.requests, n);
  EXPECT_EQ(c.ok, 0);
  EXPECT_EQ(c.failed, n);
  EXPECT_EQ(c.errors[size_t(kind)], n) << "errors: " << error_summary(c);
  EXPECT_EQ(all_errors(c), n) << "errors: " << error_summary(c);
  EXPECT_EQ(c.retries, 0);
  EXPECT_FALSE(o.total.error_samples(kind).empty());
  EXPECT_EQ(o.total.count(Metric::kTtft) + o.total.count(Metric::kE2e), 0)
      << "failed requests record no latency";
}

// The run's wall time is at least `requests / concurrency` rounds of the timeout (each request
// waited for it) and not wildly more.
void expect_took_rounds(const RunOutcome& o, int64_t rounds, int64_t timeout_ns) {
  EXPECT_GE(o.wall_ns, rounds * timeout_ns - 5 * kMs);
  EXPECT_LE(o.wall_ns, rounds * timeout_ns + 3'000 * kMs);
}

// TTFT: headers and the role-only chunk come at once, the first token only after 3 s. The
// role-only chunk must not count as a token (nor reset anything): ttft_timeout at 300 ms.
TEST(EngineTimeoutsSmoke, TtftTimeoutAfterHeadersAndRoleChunk) {
  mock::MockServer server(fast_mock());
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 2, 4);
  add_header(s, "x-mock-ttft", "3s");
  s.targets[0].timeouts.ttft_ns = 300 * kMs;
  RunOutcome o = run(s, 1);
  expect_only(o, ErrorKind::kTtftTimeout, 4);
  expect_took_rounds(o, 2, 300 * kMs);
  server.stop();
}

// Idle: the first token at 5 ms, the next ones 2 s apart: idle_timeout at 300 ms after the
// first token (the TTFT and total deadlines are far away).
TEST(EngineTimeouts, IdleTimeoutBetweenChunks) {
  mock::MockServer server(fast_mock());
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 2, 4);
  add_header(s, "x-mock-itl", "2s");
  s.targets[0].timeouts.idle_ns = 300 * kMs;
  RunOutcome o = run(s, 1);
  expect_only(o, ErrorKind::kIdleTimeout, 4);
  expect_took_rounds(o, 2, 300 * kMs);
  server.stop();
}

// Total: a steady drip (a token every 40 ms, 50 tokens: 2 s) never trips the 500 ms idle
// timeout but exceeds the 700 ms total: total_timeout.
TEST(EngineTimeouts, TotalTimeoutOnASlowDripWithinIdle) {
  mock::MockServer server(fast_mock());
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 2, 4);
  add_header(s, "x-mock-itl", "40ms");
  add_header(s, "x-mock-tokens", "50");
  s.targets[0].timeouts.idle_ns = 500 * kMs;
  s.targets[0].timeouts.total_ns = 700 * kMs;
  RunOutcome o = run(s, 1, false, /*max_tokens=*/0);
  expect_only(o, ErrorKind::kTotalTimeout, 4);
  expect_took_rounds(o, 2, 700 * kMs);
  // The tokens that did arrive before the cut are counted (failed requests' facts).
  EXPECT_GT(o.total.counters.output_tokens, 4 * 5);
  EXPECT_LT(o.total.counters.output_tokens, 4 * 50);
  server.stop();
}

// The same slow shapes with room to spare: every request ok, nothing timed out.
TEST(EngineTimeouts, SlowButWithinEveryTimeoutIsOk) {
  mock::MockServer server(fast_mock());
  ASSERT_TRUE(server.start().ok());
  Scenario s = make_scenario(server.base_url(), 2, 4);
  add_header(s, "x-mock-ttft", "150ms");
  add_header(s, "x-mock-itl", "30ms");
  add_header(s, "x-mock-tokens", "10");
  s.targets[0].timeouts.ttft_ns = 600 * kMs;
  s.targets[0].timeouts.idle_ns = 300 * kMs;
  s.targets[0].timeouts.total_ns = 2'000 * kMs;
  RunOutcome o = run(s, 1, false, /*max_tokens=*/0);
  const Counters& c = o.total.counters;
  EXPECT_EQ(c.ok, 4) << "errors: " << error_summary(c);
  EXPECT_EQ(c.failed, 0);
  EXPECT_EQ(c.output_tokens, 40);
  server.stop();
}

// A loopback listener whose accept queue is full and that never accepts: the kernel drops
// further SYNs (the queue-full check comes before SYN cookies), so a connect neither succeeds
// nor is refused. Deterministic on Linux loopback: backlog 0 holds one connection, which the
// fillers take.
class FullBacklogListener {
 public:
  FullBacklogListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 0) != 0)
      return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    // Fill the queue with non-blocking connects; give the handshakes a moment to land.
    for (int i = 0; i < 3; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers_.push_back(c);
    }
    ::usleep(100'000);
  }
  ~FullBacklogListener() {
    for (int c : fillers_) ::close(c);
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

  // Whether one more blocking connect, bounded to 300 ms, fails to complete (a self-check of
  // the premise: if the kernel completed it, this machine does not drop SYNs on a full queue).
  bool drops_syns() const {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(uint16_t(port_));
    int r = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
    bool pending = r != 0 && errno == EINPROGRESS;
    if (pending) {
      fd_set w;
      FD_ZERO(&w);
      FD_SET(c, &w);
      timeval tv{0, 300'000};
      pending = ::select(c + 1, nullptr, &w, nullptr, &tv) == 0;
    }
    ::close(c);
    return pending;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

TEST(EngineTimeouts, ConnectTimeoutOnAListenerThatNeverAnswers) {
  FullBacklogListener listener;
  ASSERT_GT(listener.port(), 0);
  ASSERT_TRUE(listener.drops_syns())
      << "the kernel completed a connect to a full accept queue; the premise does not hold";
  Scenario s = make_scenario("http://127.0.0.1:" + std::to_string(listener.port()), 2, 4);
  s.targets[0].timeouts.connect_ns = 300 * kMs;
  RunOutcome o = run(s, 1);
  expect_only(o, ErrorKind::kConnectTimeout, 4);
  expect_took_rounds(o, 2, 300 * kMs);
  EXPECT_NE(o.total.error_samples(ErrorKind::kConnectTimeout)[0].find(
                "127.0.0.1:" + std::to_string(listener.port())),
            std::string::npos)
      << "the message names the peer";
}

// A listener with room in its queue that never accepts: the kernel completes the TCP handshake,
// so the connect succeeds and what follows hangs. Over TLS the handshake never completes: the
// connect timeout covers it (TCP + TLS), so connect_timeout. Over plain HTTP the request is
// written and never answered: ttft_timeout.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0)
      return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(EngineTimeouts, TlsHandshakeThatNeverCompletesIsAConnectTimeout) {
  SilentListener listener;
  ASSERT_GT(listener.port(), 0);
  Scenario s = make_scenario("https://127.0.0.1:" + std::to_string(listener.port()), 2, 4);
  s.targets[0].timeouts.connect_ns = 300 * kMs;
  RunOutcome o = run(s, 1);
  expect_only(o, ErrorKind::kConnectTimeout, 4);
  expect_took_rounds(o, 2, 300 * kMs);
}

TEST(EngineTimeouts, ConnectedButNeverAnsweredIsATtftTimeout) {
  SilentListener listener;
  ASSERT_GT(listener.port(), 0);
  Scenario s = make_scenario("http://127.0.0.1:" + std::to_string(listener.port()), 2, 4);
  s.targets[0].timeouts.connect_ns = 300 * kMs;
  s.targets[0].timeouts.ttft_ns = 400 * kMs;
  RunOutcome o = run(s, 1);
  expect_only(o, ErrorKind::kTtftTimeout, 4);
  expect_took_rounds(o, 2, 400 * kMs);
}

// A port nobody listens on is refused at once: connect_refused, not a timeout.
TEST(EngineTimeouts, RefusedIsNotATimeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);  // bound, never listening: connects are refused
  Scenario s = make_scenario("http://127.0.0.1:" + std::to_string(port), 2, 4);
  s.targets[0].timeouts.connect_ns = 2'000 * kMs;
  RunOutcome o = run(s, 1);
  expect_only(o, ErrorKind::kConnectRefused, 4);
  EXPECT_LT(o.wall_ns, 1'500 * kMs);
  ::close(fd);
}

}  // namespace
}  // namespace llmload
