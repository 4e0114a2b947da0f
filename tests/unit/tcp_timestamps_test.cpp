// Kernel receive stamps (SO_TIMESTAMPNS) on the transport's reads, on loopback: present and
// between the peer's write and the read callback on the monotonic timeline; absent (clock
// stamps) when switched off; close to the write even when the loop is stalled, where a clock
// stamp is late by the stall; carried through TLS decryption. Also what the transport's own
// descriptor handling must keep: IPv6, and a close before any connect.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "tests/unit/tls_test_support.h"
#include "worker/tcp_transport.h"
#include "worker/tls_transport.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using namespace llmload::testing;

constexpr int kRounds = 5;
// The stamp is converted with a realtime−monotonic offset re-measured every 100 ms; a wall clock
// slewed by NTP (at most 500 ppm) drifts up to 50 µs from it in that time.
constexpr int64_t kConversionSlackNs = 200'000;
constexpr int64_t kStallNs = 30'000'000;

// The kernel turns receive stamping on for the whole system when the first socket asks, and off
// when the last one closes, both through deferred work: a packet arriving just after the first
// socket asked may carry no stamp (a worker's first reads may be clock-stamped). One stamping
// socket held for the whole program, and a stamp seen on it, put every test in the steady state a
// loaded worker runs in.
class StampingOn final : public ::testing::Environment {
 public:
  void SetUp() override {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    sockaddr_in a = loopback_addr(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    for (int i = 0; i < 2000 && !stamped(a); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override { ::close(fd_); }

 private:
  // Sends a datagram to itself: whether it came with a kernel stamp.
  bool stamped(const sockaddr_in& self) {
    char c = 's';
    ::sendto(fd_, &c, 1, 0, reinterpret_cast<const sockaddr*>(&self), sizeof self);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec iov{&c, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd_, &msg, 0) != 1) return false;
    for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h != nullptr; h = CMSG_NXTHDR(&msg, h))
      if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_TIMESTAMPNS) return true;
    return false;
  }
  int fd_ = -1;
};
const auto* const kStampingOn = ::testing::AddGlobalTestEnvironment(new StampingOn);

// Records each read's stamp and the clock inside the callback; writes "g" (go) to the peer on
// connect and after each read until `rounds` reads, then closes.
class StampRecorder final : public TransportHandler {
 public:
  struct Read {
    ReadStamp stamp;
    int64_t callback_ns;
  };
  std::vector<Read> reads;
  Transport* transport = nullptr;
  int rounds = kRounds;
  std::function<void()> after_go;  // runs on the loop thread right after each "g"
  std::string error;

  void on_transport_connected(int64_t, int64_t) override { go(); }
  void on_transport_data(ReadStamp stamp, const char*, size_t) override {
    reads.push_back({stamp, mono_now_ns()});
    if (int(reads.size()) >= rounds)
      transport->close();
    else
      go();
  }
  void on_transport_eof(int64_t, bool) override {
    error = "eof";
    transport->close();
  }
  void on_transport_error(int64_t, ErrorKind, bool, std::string_view m) override {
    error = std::string(m);
    transport->close();
  }
  void on_transport_closed() override {}
  void on_transport_written(int64_t) override {}

 private:
  void go() {
    static const char kGo[] = "g";
    uv_buf_t b = uv_buf_init(const_cast<char*>(kGo), 1);
    EXPECT_EQ(transport->write(&b, 1), IoResult::kOk);
    if (after_go) after_go();
  }
};

// The peer's side: for each "g" read, notes the monotonic time and writes one byte right after.
struct PeerLog {
  std::vector<int64_t> write_ns;
  std::atomic<int> written{0};
};

template <class Read, class Write>
void answer_each_go(PeerLog& log, int rounds, Read read_one, Write write_one) {
  for (int i = 0; i < rounds; ++i) {
    if (!read_one()) return;
    log.write_ns.push_back(mono_now_ns());
    write_one();
    log.written.fetch_add(1, std::memory_order_release);
  }
}

// One byte, waiting at most 5 s.
bool read_byte(int fd) {
  pollfd p{fd, POLLIN, 0};
  char c;
  return ::poll(&p, 1, 5000) == 1 && ::read(fd, &c, 1) == 1;
}

TestServer::Handler tcp_peer(PeerLog& log, int rounds) {
  return [&log, rounds](int fd, int) {
    answer_each_go(
        log, rounds, [fd] { return read_byte(fd); }, [fd] { write_all(fd, "x"); });
    char buf[16];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    ::close(fd);
  };
}

// Waits (at most 5 s) until the peer wrote its answer `n`, then stalls the loop thread.
void stall_after_answer(const PeerLog& log, int n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (log.written.load(std::memory_order_acquire) < n && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  std::this_thread::sleep_for(std::chrono::nanoseconds(kStallNs));
}

class TcpStamps : public ::testing::Test {
 protected:
  TcpStamps() { uv_loop_init(&loop_); }
  // Connects a TcpTransport (kernel stamps on or off) to the peer and runs the loop to the end.
  void run(bool kernel, const TestServer& server) {
    TcpTransport t(&loop_, &rec_, kernel);
    rec_.transport = &t;
    sockaddr_in a = loopback_addr(server.port());
    ASSERT_EQ(t.connect(reinterpret_cast<sockaddr*>(&a)), 0);
    run_and_close(&loop_);
  }
  uv_loop_t loop_;
  StampRecorder rec_;
  PeerLog peer_;
};

TEST_F(TcpStamps, KernelStampsLieBetweenThePeersWriteAndTheCallback) {
  auto server = std::make_unique<TestServer>(tcp_peer(peer_, kRounds));
  run(true, *server);
  server.reset();
  EXPECT_EQ(rec_.error, "");
  ASSERT_EQ(rec_.reads.size(), size_t(kRounds));
  ASSERT_EQ(peer_.write_ns.size(), size_t(kRounds));
  for (int i = 0; i < kRounds; ++i) {
    const auto& r = rec_.reads[size_t(i)];
    EXPECT_TRUE(r.stamp.kernel) << "read " << i;
    EXPECT_GE(r.stamp.ns, peer_.write_ns[size_t(i)] - kConversionSlackNs) << "read " << i;
    EXPECT_LE(r.stamp.ns, r.callback_ns + kConversionSlackNs) << "read " << i;
  }
}

TEST_F(TcpStamps, SwitchedOffEveryReadIsClockStamped) {
  auto server = std::make_unique<TestServer>(tcp_peer(peer_, kRounds));
  run(false, *server);
  server.reset();
  ASSERT_EQ(rec_.reads.size(), size_t(kRounds));
  for (int i = 0; i < kRounds; ++i) {
    const auto& r = rec_.reads[size_t(i)];
    EXPECT_FALSE(r.stamp.kernel) << "read " << i;
    EXPECT_GE(r.stamp.ns, peer_.write_ns[size_t(i)]) << "read " << i;
    EXPECT_LE(r.stamp.ns, r.callback_ns) << "read " << i;
  }
}

// The loop is busy for 30 ms after the peer wrote: the kernel's stamp still says when the
// bytes came; the clock reading is at least the stall late.
TEST_F(TcpStamps, AStalledLoopKeepsTheArrivalTimeWithKernelStamps) {
  // Each pass makes its own loop: the fixture's is closed unused (LeakSanitizer saw it leak).
  ASSERT_EQ(uv_loop_close(&loop_), 0);
  for (const bool kernel : {true, false}) {
    SCOPED_TRACE(kernel ? "kernel stamps" : "clock stamps");
    StampRecorder rec;
    PeerLog peer;
    rec.rounds = 2;
    int answers = 0;
    rec.after_go = [&peer, &answers] { stall_after_answer(peer, ++answers); };
    auto server = std::make_unique<TestServer>(tcp_peer(peer, rec.rounds));
    uv_loop_t loop;
    uv_loop_init(&loop);
    TcpTransport t(&loop, &rec, kernel);
    rec.transport = &t;
    sockaddr_in a = loopback_addr(server->port());
    ASSERT_EQ(t.connect(reinterpret_cast<sockaddr*>(&a)), 0);
    run_and_close(&loop);
    server.reset();
    ASSERT_EQ(rec.reads.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const auto& r = rec.reads[i];
      const int64_t late = r.stamp.ns - peer.write_ns[i];
      EXPECT_GE(r.callback_ns - peer.write_ns[i], kStallNs);  // the stall happened
      EXPECT_EQ(r.stamp.kernel, kernel);
      if (kernel)
        EXPECT_LT(late, kStallNs / 2) << "read " << i;
      else
        EXPECT_GE(late, kStallNs) << "read " << i;
    }
  }
}

TEST_F(TcpStamps, Ipv6LoopbackIsStampedToo) {
  int lfd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (lfd >= 0) ::close(lfd);
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ASSERT_EQ(::listen(lfd, 4), 0);
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread peer([lfd, this] {
    pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    tcp_peer(peer_, 1)(::accept(lfd, nullptr, nullptr), 0);
  });
  rec_.rounds = 1;
  TcpTransport t(&loop_, &rec_, true);
  rec_.transport = &t;
  ASSERT_EQ(t.connect(reinterpret_cast<sockaddr*>(&a)), 0);
  run_and_close(&loop_);
  peer.join();
  ::close(lfd);
  ASSERT_EQ(rec_.reads.size(), 1u);
  EXPECT_TRUE(rec_.reads[0].stamp.kernel);
}

// A transport closed before it ever made a socket still ends with on_transport_closed, from a
// close callback (HttpConnection closes a connection that never connected this way).
TEST_F(TcpStamps, CloseBeforeConnectStillReportsClosed) {
  struct Closed final : TransportHandler {
    int closed = 0;
    void on_transport_connected(int64_t, int64_t) override {}
    void on_transport_data(ReadStamp, const char*, size_t) override {}
    void on_transport_eof(int64_t, bool) override {}
    void on_transport_error(int64_t, ErrorKind, bool, std::string_view) override {}
    void on_transport_closed() override { ++closed; }
    void on_transport_written(int64_t) override {}
  } h;
  TcpTransport t(&loop_, &h);
  t.close();
  EXPECT_EQ(h.closed, 0);  // never from inside close()
  run_and_close(&loop_);
  EXPECT_EQ(h.closed, 1);
}

// TLS hands the plaintext up with the stamp of the ciphertext read it came from.
TEST(TlsStamps, TheCiphertextReadsStampCarriesThroughDecryption) {
  TestPki pki;
  KeyAndCert leaf = pki.leaf("server", "DNS:localhost,IP:127.0.0.1");
  SSL_CTX* server_ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(server_ctx, leaf.cert);
  SSL_CTX_use_PrivateKey(server_ctx, leaf.key);
  TlsOptions o;
  o.ca_file = pki.ca.cert_file;
  auto client_ctx = TlsContext::create(o).value();
  PeerLog log;
  auto server = std::make_unique<TestServer>([&log, server_ctx](int fd, int) {
    SSL* ssl = SSL_new(server_ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      char c;
      answer_each_go(
          log, kRounds, [ssl, &c] { return SSL_read(ssl, &c, 1) == 1; },
          [ssl] { SSL_write(ssl, "x", 1); });
      while (SSL_read(ssl, &c, 1) > 0) {
      }
    }
    SSL_free(ssl);
    ::close(fd);
    ERR_clear_error();
  });
  uv_loop_t loop;
  uv_loop_init(&loop);
  StampRecorder rec;
  TlsTransport t(&loop, &rec, *client_ctx, "localhost", nullptr, true);
  rec.transport = &t;
  sockaddr_in a = loopback_addr(server->port());
  ASSERT_EQ(t.connect(reinterpret_cast<sockaddr*>(&a)), 0);
  run_and_close(&loop);
  server.reset();
  SSL_CTX_free(server_ctx);
  EXPECT_EQ(rec.error, "");
  ASSERT_EQ(rec.reads.size(), size_t(kRounds));
  for (int i = 0; i < kRounds; ++i) {
    const auto& r = rec.reads[size_t(i)];
    EXPECT_TRUE(r.stamp.kernel) << "read " << i;
    EXPECT_GE(r.stamp.ns, log.write_ns[size_t(i)] - kConversionSlackNs) << "read " << i;
    EXPECT_LE(r.stamp.ns, r.callback_ns + kConversionSlackNs) << "read " << i;
  }
}

}  // namespace
}  // namespace llmload
