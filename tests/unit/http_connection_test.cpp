// HttpConnection over real loopback sockets: each body framing, callback order and
// timestamps, and every connection-level error kind. Each test ends with uv_loop_close == 0.
#include "worker/http_connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "tests/unit/http_test_support.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using namespace llmload::testing;

struct Fixture {
  uv_loop_t loop;
  Endpoint endpoint;
  HttpRequest request;
  Fixture(uint16_t port)
      : endpoint(Endpoint::parse("http://127.0.0.1:" + std::to_string(port)).value()),
        request(HttpRequest::build("POST", endpoint, "/v1/chat/completions",
                                   {{"Authorization", "Bearer secret"}}, "{\"x\":1}")
                    .value()) {
    uv_loop_init(&loop);
  }
  // One request on a fresh owner-less connection; the connection is closed when it ends.
  RecordingListener run(uint16_t port, std::function<void(HttpConnection&)> after_send = {}) {
    RecordingListener l;
    ConnectionConfig cfg;
    cfg.endpoint = &endpoint;
    HttpConnection* c = HttpConnection::create(&loop, cfg, nullptr);
    l.on_done = [c](RecordingListener&) { c->close(); };
    EXPECT_TRUE(c->send(request, &l));
    sockaddr_in a = loopback_addr(port);
    c->connect(reinterpret_cast<sockaddr*>(&a), mono_now_ns() + 5'000'000'000);
    if (after_send) after_send(*c);
    run_and_close(&loop);
    return l;
  }
};

void respond(int fd, const std::string& response) {
  read_request(fd);
  write_all(fd, response);
  ::close(fd);
}

TEST(HttpConnection, ContentLengthResponse) {
  TestServer server([](int fd, int) {
    std::string req = read_request(fd);
    EXPECT_NE(req.find("POST /v1/chat/completions HTTP/1.1\r\n"), std::string::npos);
    EXPECT_NE(req.find("Authorization: Bearer secret\r\n"), std::string::npos);
    EXPECT_NE(req.find("\r\n\r\n{\"x\":1}"), std::string::npos);
    write_all(fd,
              "HTTP/1.1 200 OK\r\nX-Request-Id: r1\r\nContent-Type: text/event-stream\r\n"
              "Content-Length: 5\r\n\r\nhello");
    ::close(fd);
  });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events,
            (std::vector<std::string>{"connected", "sent", "headers", "body", "complete"}));
  EXPECT_EQ(l.status, 200);
  EXPECT_EQ(l.request_id, "r1");
  EXPECT_EQ(l.content_type, "text/event-stream");
  EXPECT_EQ(l.body, "hello");
  EXPECT_GE(l.connect_ns, 0);
  EXPECT_EQ(l.tls_ns, 0);
  EXPECT_GT(l.sent_ns, 0);
  EXPECT_LE(l.sent_ns, l.first_byte_ns);
  EXPECT_LE(l.first_byte_ns, l.headers_ns);
  EXPECT_LE(l.headers_ns, l.complete_ns);
}

TEST(HttpConnection, ChunkedResponseInManyWrites) {
  TestServer server([](int fd, int) {
    read_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; ++i) {
      write_all(fd, "6\r\ntoken" + std::to_string(i) + "\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    write_all(fd, "0\r\n\r\n");
    read_request(fd);  // wait for the client to close
    ::close(fd);
  });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events.back(), "complete");
  EXPECT_EQ(l.body, "token0token1token2token3token4");
}

TEST(HttpConnection, ResponseArrivingOneBytePerSegment) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nX-Request-Id: slow\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  TestServer server([text](int fd, int) {
    read_request(fd);
    for (char ch : text) {
      write_all(fd, std::string(1, ch));
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    read_request(fd);
    ::close(fd);
  });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events.back(), "complete");
  EXPECT_EQ(l.request_id, "slow");
  EXPECT_EQ(l.body, "abcde");
  EXPECT_LT(l.first_byte_ns, l.headers_ns);  // the head came over many reads
}

TEST(HttpConnection, CloseDelimitedResponse) {
  TestServer server([](int fd, int) {
    respond(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
  });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events.back(), "complete");
  EXPECT_EQ(l.body, "until the end");
}

TEST(HttpConnection, ConnectRefused) {
  uint16_t port = 0;
  int fd = listen_loopback(&port);
  ::close(fd);  // nothing listens there now
  Fixture f(port);
  RecordingListener l = f.run(port);
  EXPECT_EQ(l.events, (std::vector<std::string>{"error:connect_refused"}));
  EXPECT_NE(l.error.message.find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_EQ(l.error.message.find("secret"), std::string::npos);
  EXPECT_FALSE(l.error.retryable);
}

TEST(HttpConnection, ConnectTimeoutOnAFullAcceptQueue) {
  uint16_t port = 0;
  int lfd = listen_loopback(&port, 0);  // never accepts
  // Fill the accept queue so further SYNs are dropped and a connect hangs.
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a = loopback_addr(port);
    ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(s);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Fixture f(port);
  RecordingListener l;
  ConnectionConfig cfg;
  cfg.endpoint = &f.endpoint;
  HttpConnection* c = HttpConnection::create(&f.loop, cfg, nullptr);
  c->send(f.request, &l);
  sockaddr_in a = loopback_addr(port);
  c->connect(reinterpret_cast<sockaddr*>(&a), mono_now_ns() + 300'000'000);
  run_and_close(&f.loop);
  EXPECT_EQ(l.events, (std::vector<std::string>{"error:connect_timeout"}));
  for (int s : fillers) ::close(s);
  ::close(lfd);
}

TEST(HttpConnection, ResetMidBody) {
  TestServer server([](int fd, int) {
    read_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    reset_close(fd);
  });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events,
            (std::vector<std::string>{"connected", "sent", "headers", "body", "error:reset"}));
  EXPECT_EQ(l.body, "hello");
  EXPECT_FALSE(l.error.retryable);
}

TEST(HttpConnection, TruncatedChunkedBody) {
  TestServer server([](int fd, int) {
    respond(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events.back(), "error:truncated");
  EXPECT_EQ(l.body, "hello");
}

TEST(HttpConnection, EofBeforeAnyResponseOnAFreshConnectionIsTruncatedNotRetryable) {
  TestServer server([](int fd, int) { respond(fd, ""); });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events, (std::vector<std::string>{"connected", "sent", "error:truncated"}));
  EXPECT_FALSE(l.error.retryable);
}

TEST(HttpConnection, GarbageIsAProtocolError) {
  TestServer server([](int fd, int) { respond(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n"); });
  Fixture f(server.port());
  RecordingListener l = f.run(server.port());
  EXPECT_EQ(l.events.back(), "error:protocol");
  EXPECT_NE(l.error.message.find("malformed HTTP response"), std::string::npos);
}

class DeadlineListener : public RecordingListener {
 public:
  int rearms = 0;
  void on_request_sent(int64_t t, HttpConnection& c) override {
    RecordingListener::on_request_sent(t, c);
    c.arm(t + 200'000'000, ErrorKind::kTtftTimeout);
    // Re-arming to a later deadline (idle per chunk) must keep exactly one timer working.
    for (int i = 0; i < 1000; ++i) c.arm(t + 150'000'000 + i, ErrorKind::kIdleTimeout);
  }
};

TEST(HttpConnection, IdleDeadlineAfterManyRearms) {
  TestServer server([](int fd, int) {
    read_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    read_request(fd);  // stall until the client gives up
    ::close(fd);
  });
  Fixture f(server.port());
  DeadlineListener l;
  ConnectionConfig cfg;
  cfg.endpoint = &f.endpoint;
  HttpConnection* c = HttpConnection::create(&f.loop, cfg, nullptr);
  c->send(f.request, &l);
  sockaddr_in a = loopback_addr(server.port());
  c->connect(reinterpret_cast<sockaddr*>(&a), mono_now_ns() + 5'000'000'000);
  const int64_t t0 = mono_now_ns();
  run_and_close(&f.loop);
  EXPECT_EQ(l.events.back(), "error:idle_timeout");
  EXPECT_GE(mono_now_ns() - t0, 150'000'000);  // never early
}

// Deadlines are judged by the connection's clock (ConnectionConfig::clock), not by how long
// the loop waited: with a FakeClock standing still, a ttft deadline 50 ms ahead is not due
// however often the timer fires in 200 ms of real time; once the clock is moved past it, the
// request ends as ttft_timeout at exactly the clock's time.
TEST(HttpConnection, DeadlinesAreJudgedByTheConnectionsClock) {
  TestServer server([](int fd, int) {
    read_request(fd);
    read_request(fd);  // no answer: stall until the client gives up
    ::close(fd);
  });
  Fixture f(server.port());
  FakeClock clock(7'000'000'000);
  struct Listener : RecordingListener {
    FakeClock* clock = nullptr;
    int64_t error_at = 0;
    void on_request_sent(int64_t t, HttpConnection& c) override {
      RecordingListener::on_request_sent(t, c);
      c.arm(clock->now_ns() + 50'000'000, ErrorKind::kTtftTimeout);
    }
    void on_error(int64_t t, const NetError& e) override {
      error_at = t;
      RecordingListener::on_error(t, e);
    }
  } l;
  l.clock = &clock;
  ConnectionConfig cfg;
  cfg.endpoint = &f.endpoint;
  cfg.clock = &clock;
  HttpConnection* c = HttpConnection::create(&f.loop, cfg, nullptr);
  l.on_done = [c](RecordingListener&) { c->close(); };
  ASSERT_TRUE(c->send(f.request, &l));
  sockaddr_in a = loopback_addr(server.port());
  c->connect(reinterpret_cast<sockaddr*>(&a), clock.now_ns() + 5'000'000'000);
  // After 200 ms of real time (four times the deadline), move the clock 60 ms.
  uv_timer_t mover;
  uv_timer_init(&f.loop, &mover);
  mover.data = &l;
  uv_timer_start(
      &mover,
      [](uv_timer_t* t) {
        auto* listener = static_cast<Listener*>(t->data);
        EXPECT_TRUE(listener->error_at == 0) << "a deadline fell due on a clock standing still";
        listener->clock->advance(60'000'000);
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      },
      200, 0);
  run_and_close(&f.loop);
  ASSERT_FALSE(l.events.empty());
  EXPECT_EQ(l.events.back(), "error:ttft_timeout");
  EXPECT_EQ(l.error_at, 7'060'000'000);
}

TEST(HttpConnection, CancelClosesWithoutFurtherCallbacks) {
  TestServer server([](int fd, int) {
    read_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    read_request(fd);
    ::close(fd);
  });
  Fixture f(server.port());
  RecordingListener l;
  ConnectionConfig cfg;
  cfg.endpoint = &f.endpoint;
  HttpConnection* c = HttpConnection::create(&f.loop, cfg, nullptr);
  struct CancelOnBody : RecordingListener {
    void on_body(int64_t t, const char* d, size_t n) override {
      RecordingListener::on_body(t, d, n);
      connection()->cancel();
    }
  } cl;
  c->send(f.request, &cl);
  sockaddr_in a = loopback_addr(server.port());
  c->connect(reinterpret_cast<sockaddr*>(&a), mono_now_ns() + 5'000'000'000);
  run_and_close(&f.loop);
  EXPECT_EQ(cl.events, (std::vector<std::string>{"connected", "sent", "headers", "body"}));
  EXPECT_EQ(cl.connection(), nullptr);
}

// A request whose bytes the kernel cannot take yet (the socket's buffers are full behind an
// earlier request's body) has not started: it starts when it is written, never when it was
// queued. Request 1 carries a body larger than the loopback buffers; the server answers it
// before reading the body, so the connection is idle again while request 1's bytes still wait in
// its write queue; request 2 then queues behind them. The server drains only after 300 ms: request
// 2's start (sent) must come after the drain began, and its ttfb must not hold the 300 ms.
TEST(HttpConnection, AQueuedWriteStartsTheRequestWhenWrittenNotWhenQueued) {
  std::atomic<int64_t> drain_ns{0};
  TestServer server([&drain_ns](int fd, int) {
    std::string buf;
    char tmp[65536];
    while (buf.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(fd, tmp, sizeof tmp);
      if (n <= 0) return (void)::close(fd);
      buf.append(tmp, size_t(n));
    }
    const size_t he = buf.find("\r\n\r\n");
    const size_t cl = std::stoul(buf.substr(buf.find("Content-Length: ") + 16));
    write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    drain_ns = mono_now_ns();
    size_t have = buf.size() - (he + 4);
    buf.clear();
    while (have < cl) {  // the rest of request 1's body
      ssize_t n = ::read(fd, tmp, std::min(sizeof tmp, cl - have));
      if (n <= 0) return (void)::close(fd);
      have += size_t(n);
    }
    read_request(fd);  // request 2
    write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
    ::close(fd);
  });
  Fixture f(server.port());
  const std::string big(32u << 20, 'x');
  HttpRequest first =
      HttpRequest::build("POST", f.endpoint, "/v1/chat/completions", {}, big).value();
  ConnectionConfig cfg;
  cfg.endpoint = &f.endpoint;
  HttpConnection* c = HttpConnection::create(&f.loop, cfg, nullptr);
  RecordingListener l1, l2;
  l1.on_done = [&](RecordingListener&) {
    ASSERT_EQ(c->state(), HttpConnection::State::kIdle);
    EXPECT_TRUE(c->send(f.request, &l2));
  };
  l2.on_done = [c](RecordingListener&) { c->close(); };
  EXPECT_TRUE(c->send(first, &l1));
  sockaddr_in a = loopback_addr(server.port());
  c->connect(reinterpret_cast<sockaddr*>(&a), mono_now_ns() + 5'000'000'000);
  run_and_close(&f.loop);
  ASSERT_EQ(l1.events.back(), "complete");
  ASSERT_EQ(l2.events, (std::vector<std::string>{"sent", "headers", "body", "complete"}));
  EXPECT_EQ(l2.body, "two");
  ASSERT_GT(drain_ns.load(), 0);
  EXPECT_GE(l2.sent_ns, drain_ns.load()) << "request 2 timed from before the kernel took it";
  EXPECT_LT(l2.first_byte_ns - l2.sent_ns, 250'000'000) << "the queueing is inside its ttfb";
}

}  // namespace
}  // namespace llmload
