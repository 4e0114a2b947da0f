// The contract every Transport meets (worker/transport.h), run over plain TCP and TLS against a
// loopback peer on its own thread: connect, write, a queued write reported by
// on_transport_written, read, a clean close by the peer, a refused connect and a reset by the
// peer. Every test ends by closing the loop and checking it closed clean (no handle leaked).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/tls_test_support.h"
#include "worker/tcp_transport.h"
#include "worker/tls_transport.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using namespace llmload::testing;

// The server's end of one accepted connection, plain or TLS.
class PeerEnd {
 public:
  explicit PeerEnd(int fd) : fd_(fd) {
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  virtual ~PeerEnd() = default;
  // Reads exactly n bytes; fewer when the stream ends or stalls for 5 s.
  std::string read_n(size_t n) {
    std::string out;
    std::vector<char> buf(256 * 1024);
    while (out.size() < n) {
      const ssize_t got = read_some(buf.data(), std::min(buf.size(), n - out.size()));
      if (got <= 0) break;
      out.append(buf.data(), size_t(got));
    }
    return out;
  }
  // Waits until the client closes (or 5 s pass).
  void wait_for_close() {
    char buf[4096];
    while (read_some(buf, sizeof buf) > 0) {
    }
  }
  virtual void write(std::string_view s) = 0;
  // An orderly close (after close_notify on TLS).
  virtual void close_clean() = 0;
  // A close with an RST.
  void reset() {
    reset_close(fd_);
    fd_ = -1;
  }

 protected:
  virtual ssize_t read_some(char* buf, size_t n) = 0;
  int fd_;
};

class TcpPeer final : public PeerEnd {
 public:
  using PeerEnd::PeerEnd;
  ~TcpPeer() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void write(std::string_view s) override { write_all(fd_, std::string(s)); }
  void close_clean() override {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  ssize_t read_some(char* buf, size_t n) override { return ::read(fd_, buf, n); }
};

class TlsPeer final : public PeerEnd {
 public:
  TlsPeer(int fd, SSL_CTX* ctx) : PeerEnd(fd), ssl_(SSL_new(ctx)) {
    SSL_set_fd(ssl_, fd_);
    EXPECT_EQ(SSL_accept(ssl_), 1);
  }
  ~TlsPeer() override {
    SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    ERR_clear_error();
  }
  void write(std::string_view s) override {
    EXPECT_EQ(SSL_write(ssl_, s.data(), int(s.size())), int(s.size()));
  }
  void close_clean() override {
    SSL_shutdown(ssl_);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  ssize_t read_some(char* buf, size_t n) override { return SSL_read(ssl_, buf, int(n)); }
  SSL* ssl_;
};

using Script = std::function<void(PeerEnd&)>;

struct Tcp {
  static constexpr bool kTls = false;
  std::unique_ptr<PeerEnd> peer(int fd) { return std::make_unique<TcpPeer>(fd); }
  std::unique_ptr<Transport> client(uv_loop_t* loop, TransportHandler* h) {
    return std::make_unique<TcpTransport>(loop, h);
  }
};

struct Tls {
  static constexpr bool kTls = true;
  Tls() : leaf_(pki_.leaf("server", "DNS:localhost,IP:127.0.0.1")) {
    server_ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(server_ctx_, leaf_.cert);
    SSL_CTX_use_PrivateKey(server_ctx_, leaf_.key);
    TlsOptions o;
    o.ca_file = pki_.ca.cert_file;
    client_ctx_ = TlsContext::create(o).value();
  }
  ~Tls() { SSL_CTX_free(server_ctx_); }
  std::unique_ptr<PeerEnd> peer(int fd) { return std::make_unique<TlsPeer>(fd, server_ctx_); }
  std::unique_ptr<Transport> client(uv_loop_t* loop, TransportHandler* h) {
    return std::make_unique<TlsTransport>(loop, h, *client_ctx_, "localhost", nullptr);
  }

 private:
  TestPki pki_;
  KeyAndCert leaf_;
  SSL_CTX* server_ctx_;
  std::shared_ptr<TlsContext> client_ctx_;
};

// Records every handler call in order ("data" once per run of reads); closes the transport on
// EOF and on an error, as HttpConnection does.
class Recorder final : public TransportHandler {
 public:
  std::vector<std::string> events;
  std::string data;
  bool peer_closed = false;
  Transport* transport = nullptr;
  std::function<void(Recorder&)> on_connected;
  std::function<void(Recorder&)> on_data;

  void on_transport_connected(int64_t tcp_done_ns, int64_t ready_ns) override {
    EXPECT_GT(tcp_done_ns, 0);
    EXPECT_GE(ready_ns, tcp_done_ns);
    events.push_back("connected");
    if (on_connected) on_connected(*this);
  }
  void on_transport_data(ReadStamp, const char* d, size_t len) override {
    if (events.empty() || events.back() != "data") events.push_back("data");
    data.append(d, len);
    if (on_data) on_data(*this);
  }
  void on_transport_eof(int64_t, bool clean) override {
    events.push_back(clean ? "eof" : "eof:cut");
    transport->close();
  }
  void on_transport_error(int64_t, ErrorKind kind, bool peer, std::string_view message) override {
    EXPECT_FALSE(message.empty());
    events.push_back("error:" + std::string(name(kind)));
    peer_closed = peer;
    transport->close();
  }
  void on_transport_closed() override { events.push_back("closed"); }
  void on_transport_written(int64_t) override { events.push_back("written"); }
};

std::string error_event(ErrorKind kind) {
  return "error:" + std::string(name(kind));
}

template <class Kind>
class TransportContract : public ::testing::Test {
 protected:
  TransportContract() { uv_loop_init(&loop_); }

  // Serves `script` on every accepted connection.
  void serve(Script script) {
    server_ = std::make_unique<TestServer>([this, script](int fd, int) {
      auto peer = kind_.peer(fd);
      script(*peer);
    });
  }
  // Connects to `port` and runs the loop until every handle is closed; the loop must close
  // clean.
  void run(uint16_t port) {
    transport_ = kind_.client(&loop_, &rec_);
    rec_.transport = transport_.get();
    EXPECT_EQ(transport_->is_tls(), Kind::kTls);
    sockaddr_in a = loopback_addr(port);
    ASSERT_EQ(transport_->connect(reinterpret_cast<sockaddr*>(&a)), 0);
    run_and_close(&loop_);
    EXPECT_TRUE(transport_->closing());
  }
  uint16_t port() const { return server_->port(); }

  Kind kind_;
  Recorder rec_;
  uv_loop_t loop_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Transport> transport_;
};

using Kinds = ::testing::Types<Tcp, Tls>;
class KindNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kTls ? "Tls" : "Tcp";
  }
};
TYPED_TEST_SUITE(TransportContract, Kinds, KindNames);

TYPED_TEST(TransportContract, ConnectWriteReadClose) {
  std::string seen;
  this->serve([&seen](PeerEnd& p) {
    seen = p.read_n(5);
    p.write("pong\n");
    p.wait_for_close();
  });
  static const char kPing[] = "ping\n";
  this->rec_.on_connected = [](Recorder& r) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(kPing), 5);
    EXPECT_EQ(r.transport->write(&b, 1), IoResult::kOk);
  };
  this->rec_.on_data = [](Recorder& r) {
    if (r.data.size() >= 5) r.transport->close();
  };
  this->run(this->port());
  this->server_.reset();  // joins the peer
  EXPECT_EQ(seen, "ping\n");
  EXPECT_EQ(this->rec_.data, "pong\n");
  EXPECT_EQ(this->rec_.events, (std::vector<std::string>{"connected", "data", "closed"}));
}

TYPED_TEST(TransportContract, PeerCloseIsACleanEof) {
  this->serve([](PeerEnd& p) {
    p.write("bye");
    p.close_clean();
  });
  this->run(this->port());
  EXPECT_EQ(this->rec_.data, "bye");
  EXPECT_EQ(this->rec_.events, (std::vector<std::string>{"connected", "data", "eof", "closed"}));
}

// A write behind one the kernel could not take at once is queued (kQueued) and reported by
// on_transport_written once it is wholly in the kernel, before the peer can answer it.
TYPED_TEST(TransportContract, QueuedWriteIsReportedWritten) {
  // Larger than any loopback socket buffer pair, so the first write cannot complete at once.
  static const std::string big(32 * 1024 * 1024, 'x');
  static const char kTail[] = "tail!";
  size_t received = 0;
  this->serve([&received](PeerEnd& p) {
    received = p.read_n(big.size() + 5).size();
    p.write("done");
    p.wait_for_close();
  });
  this->rec_.on_connected = [](Recorder& r) {
    uv_buf_t first = uv_buf_init(const_cast<char*>(big.data()), unsigned(big.size()));
    EXPECT_EQ(r.transport->write(&first, 1), IoResult::kOk);  // some taken, the rest queued
    uv_buf_t second = uv_buf_init(const_cast<char*>(kTail), 5);
    EXPECT_EQ(r.transport->write(&second, 1), IoResult::kQueued);
  };
  this->rec_.on_data = [](Recorder& r) {
    if (r.data == "done") r.transport->close();
  };
  this->run(this->port());
  this->server_.reset();
  EXPECT_EQ(received, big.size() + 5);
  EXPECT_EQ(this->rec_.events,
            (std::vector<std::string>{"connected", "written", "data", "closed"}));
}

TYPED_TEST(TransportContract, RefusedConnectIsAnErrorNotFromThePeer) {
  this->run(refused_port());
  EXPECT_EQ(this->rec_.events,
            (std::vector<std::string>{error_event(ErrorKind::kConnectRefused), "closed"}));
  EXPECT_FALSE(this->rec_.peer_closed);
}

// An RST from the peer surfaces as ECONNRESET (an error from the peer) or, when the kernel
// handed that error to an earlier call (TLS often sees it so), as an end of stream that TLS
// calls cut; never as a clean end.
TYPED_TEST(TransportContract, ResetByThePeerIsNeverACleanEnd) {
  this->serve([](PeerEnd& p) {
    p.read_n(1);
    p.reset();
  });
  static const char kOne[] = "x";
  this->rec_.on_connected = [](Recorder& r) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(kOne), 1);
    EXPECT_EQ(r.transport->write(&b, 1), IoResult::kOk);
  };
  this->run(this->port());
  const auto& ev = this->rec_.events;
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev.front(), "connected");
  EXPECT_EQ(ev.back(), "closed");
  const bool reset_error = ev[1] == error_event(ErrorKind::kReset) && this->rec_.peer_closed;
  EXPECT_TRUE(reset_error || ev[1] == "eof:cut") << ev[1];
}

}  // namespace
}  // namespace llmload
