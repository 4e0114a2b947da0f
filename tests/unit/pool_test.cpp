// ConnectionPool on loopback: keep-alive reuse (LIFO, counted), the stale keep-alive retry,
// the bound on connects in flight, prewarm, name resolution, shutdown.
#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/http_test_support.h"
#include "worker/connection_pool.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using namespace llmload::testing;

const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

struct PoolFixture {
  uv_loop_t loop;
  std::unique_ptr<DnsCache> dns;
  std::unique_ptr<ConnectionPool> pool;
  HttpRequest request;
  PoolFixture(const std::string& url, PoolOptions options = {})
      : request(
            HttpRequest::build("POST", Endpoint::parse(url).value(), "/v1/completions", {}, "{}")
                .value()) {
    uv_loop_init(&loop);
    dns = std::make_unique<DnsCache>(&loop);
    pool = std::make_unique<ConnectionPool>(&loop, Endpoint::parse(url).value(), nullptr, *dns,
                                            options);
  }
  void finish() {
    pool->shutdown([] {});
    run_and_close(&loop);
    pool.reset();
    dns.reset();
  }
  // Runs `first`, then `second` from first's end (on the connection first left idle, if the
  // pool keeps it), then shuts the pool down; returns when the loop closed clean.
  void run_two(RecordingListener& first, RecordingListener& second) {
    first.on_done = [this, &second](RecordingListener&) { pool->submit(request, &second); };
    second.on_done = [this](RecordingListener&) { pool->shutdown([] {}); };
    pool->submit(request, &first);
    run_and_close(&loop);
  }
  // Submits `l` once `idle` connections sit idle in the pool (prewarm), then runs the loop
  // until `l` ends and the pool shut down.
  void run_when_idle(size_t idle, RecordingListener& l) {
    l.on_done = [this](RecordingListener&) { pool->shutdown([] {}); };
    wanted_idle_ = idle;
    waiting_ = &l;
    uv_timer_init(&loop, &wait_);
    wait_.data = this;
    uv_timer_start(&wait_, &PoolFixture::on_wait, 5, 0);
    run_and_close(&loop);
  }

 private:
  static void on_wait(uv_timer_t* t) {
    auto* f = static_cast<PoolFixture*>(t->data);
    if (f->pool->idle() < f->wanted_idle_) {
      uv_timer_start(t, &PoolFixture::on_wait, 5, 0);
      return;
    }
    f->pool->submit(f->request, f->waiting_);
    uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
  }
  uv_timer_t wait_;
  size_t wanted_idle_ = 0;
  RecordingListener* waiting_ = nullptr;
};

std::string url_for(uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

TEST(ConnectionPool, SecondRequestReusesTheKeepAliveConnection) {
  TestServer server(serve_each(kOk));
  PoolFixture f(url_for(server.port()));
  RecordingListener first, second;
  f.run_two(first, second);
  EXPECT_EQ(first.events,
            (std::vector<std::string>{"connected", "sent", "headers", "body", "complete"}));
  // No "connected": the pooled connection was reused.
  EXPECT_EQ(second.events, (std::vector<std::string>{"sent", "headers", "body", "complete"}));
  EXPECT_EQ(f.pool->counters().opened, 1u);
  EXPECT_EQ(f.pool->counters().reused, 1u);
  EXPECT_EQ(f.pool->counters().retries, 0u);
  EXPECT_EQ(server.accepted(), 1);
  f.pool.reset();
}

TEST(ConnectionPool, StaleKeepAliveConnectionIsRetriedOnceOnAFreshOne) {
  // Connection 0 answers once with keep-alive, then the server closes it at once: the second
  // request, written from the first one's on_complete, meets a connection closed under it.
  TestServer server([](int fd, int index) {
    if (index == 0) {
      read_request(fd);
      write_all(fd, kOk);
      ::close(fd);
      return;
    }
    serve_each(kOk)(fd, index);
  });
  PoolFixture f(url_for(server.port()));
  RecordingListener first, second;
  f.run_two(first, second);
  EXPECT_EQ(first.events.back(), "complete");
  ASSERT_EQ(second.events.back(), "complete") << second.error.message;
  EXPECT_EQ(second.retries, 1);
  EXPECT_EQ(second.events.front(), "sent");  // first on the stale connection
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(f.pool->counters().retries, 1u);
  EXPECT_EQ(f.pool->counters().opened, 2u);
  f.pool.reset();
}

TEST(ConnectionPool, PrewarmedConnectionClosedUnderTheFirstRequestIsRetried) {
  // Connection 0 is opened ahead of load and sits idle; the server drops it when the first
  // request arrives (its idle timeout racing the request): a retry, exactly as for a
  // keep-alive connection, not a `truncated` error.
  TestServer server([](int fd, int index) {
    if (index == 0) {
      read_request(fd);
      ::close(fd);
      return;
    }
    serve_each(kOk)(fd, index);
  });
  PoolFixture f(url_for(server.port()));
  f.pool->prewarm(1);
  RecordingListener l;
  f.run_when_idle(1, l);
  ASSERT_EQ(l.events.back(), "complete") << l.error.message;
  EXPECT_EQ(l.retries, 1);
  EXPECT_EQ(l.body, "ok");
  EXPECT_EQ(f.pool->counters().retries, 1u);
  EXPECT_EQ(f.pool->counters().opened, 2u);
  f.pool.reset();
}

TEST(ConnectionPool, ConnectsInFlightAreBounded) {
  TestServer server(serve_each(kOk), /*concurrent=*/true);
  PoolOptions o;
  o.max_connects_in_flight = 2;
  PoolFixture f(url_for(server.port()), o);
  std::vector<RecordingListener> ls(6);
  size_t max_connecting = 0;
  int done = 0;
  for (auto& l : ls) {
    l.on_done = [&](RecordingListener&) {
      max_connecting = std::max(max_connecting, f.pool->connecting());
      if (++done == 6) f.pool->shutdown([] {});
    };
    f.pool->submit(f.request, &l);
    max_connecting = std::max(max_connecting, f.pool->connecting());
  }
  EXPECT_EQ(f.pool->connecting(), 2u);
  EXPECT_EQ(f.pool->waiting(), 4u);
  EXPECT_EQ(f.pool->counters().queued, 4u);
  run_and_close(&f.loop);
  for (auto& l : ls) EXPECT_EQ(l.events.back(), "complete");
  EXPECT_LE(max_connecting, 2u);
  EXPECT_EQ(f.pool->counters().opened + f.pool->counters().reused, 6u);
  f.pool.reset();
}

TEST(ConnectionPool, PrewarmOpensIdleConnectionsThatRequestsThenUse) {
  TestServer server(serve_each(kOk), /*concurrent=*/true);
  PoolFixture f(url_for(server.port()));
  f.pool->prewarm(2);
  RecordingListener l;
  f.run_when_idle(2, l);
  // The first request on a prewarmed connection reports that connection's setup.
  EXPECT_EQ(l.events,
            (std::vector<std::string>{"connected", "sent", "headers", "body", "complete"}));
  EXPECT_GE(l.connect_ns, 0);
  EXPECT_EQ(l.tls_ns, 0);
  EXPECT_EQ(f.pool->counters().opened, 2u);
  EXPECT_EQ(f.pool->counters().connected, 2u);
  EXPECT_EQ(f.pool->counters().reused, 1u);
  f.pool.reset();
}

TEST(ConnectionPool, LocalhostIsResolvedOnceAndCached) {
  TestServer server(serve_each(kOk));
  PoolFixture f("http://localhost:" + std::to_string(server.port()));
  RecordingListener first, second;
  f.run_two(first, second);
  // localhost may resolve to ::1 first where nothing listens; either way it was resolved once.
  EXPECT_EQ(f.dns->lookups(), 1u);
  EXPECT_NE(f.dns->cached("localhost", server.port()), nullptr);
  f.pool.reset();
}

TEST(ConnectionPool, ConnectRefusedReachesTheListener) {
  PoolFixture f(url_for(refused_port()));
  RecordingListener l;
  f.pool->submit(f.request, &l);
  run_and_close(&f.loop);
  EXPECT_EQ(l.events, (std::vector<std::string>{"error:connect_refused"}));
  EXPECT_EQ(f.pool->counters().connect_failures, 1u);
  f.pool.reset();
}

TEST(ConnectionPool, CancelQueuedAndInFlight) {
  TestServer server([](int fd, int) {
    read_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    read_request(fd);  // stall until the client closes
    ::close(fd);
  });
  PoolOptions o;
  o.max_connects_in_flight = 1;
  PoolFixture f(url_for(server.port()), o);
  RecordingListener a, b;
  struct CancelOnHeaders : RecordingListener {
    ConnectionPool* pool;
    void on_response_headers(int64_t t, int64_t fb, const ResponseHead& h) override {
      RecordingListener::on_response_headers(t, fb, h);
      pool->cancel(this);
      pool->shutdown([] {});
    }
  } c;
  c.pool = f.pool.get();
  f.pool->submit(f.request, &c);
  f.pool->submit(f.request, &b);  // waits for the connect slot
  EXPECT_EQ(f.pool->waiting(), 1u);
  f.pool->cancel(&b);
  EXPECT_EQ(f.pool->waiting(), 0u);
  run_and_close(&f.loop);
  EXPECT_EQ(c.events, (std::vector<std::string>{"connected", "sent", "headers"}));
  EXPECT_TRUE(b.events.empty());
  f.pool.reset();
}

// prompts.sticky: a pinned connection waits idle for its holder only; an unpinned request opens
// another; the holder's next request goes on it; release() gives it back to the pool.
TEST(ConnectionPool, APinnedConnectionServesOnlyItsHolderUntilReleased) {
  TestServer server(serve_each(kOk), /*concurrent=*/true);
  PoolFixture f(url_for(server.port()));
  ConnectionPin pin;
  RecordingListener first, other, again, after;
  HttpConnection* pinned = nullptr;
  first.on_done = [&](RecordingListener&) {
    pinned = pin.conn;
    EXPECT_EQ(f.pool->pinned_idle(), 1u);
    EXPECT_EQ(f.pool->idle(), 0u);
    f.pool->submit(f.request, &other);  // no pin: must not take the pinned connection
  };
  other.on_done = [&](RecordingListener&) { f.pool->submit(f.request, &again, &pin); };
  again.on_done = [&](RecordingListener&) {
    EXPECT_EQ(pin.conn, pinned);
    f.pool->release(&pin);
    EXPECT_EQ(pin.conn, nullptr);
    EXPECT_EQ(f.pool->pinned_idle(), 0u);
    EXPECT_EQ(f.pool->idle(), 2u);
    f.pool->submit(f.request, &after);
  };
  after.on_done = [&](RecordingListener&) { f.pool->shutdown([] {}); };
  f.pool->submit(f.request, &first, &pin);
  run_and_close(&f.loop);
  ASSERT_NE(pinned, nullptr);
  EXPECT_EQ(first.events.front(), "connected");
  EXPECT_EQ(other.events.front(), "connected") << "the pinned connection was taken";
  EXPECT_EQ(again.events.front(), "sent") << "the holder's next request opened a connection";
  EXPECT_EQ(after.events.front(), "sent");  // reuses an idle one (the released, warmest)
  EXPECT_EQ(f.pool->counters().opened, 2u);
  EXPECT_EQ(server.accepted(), 2);
  f.pool.reset();
}

}  // namespace
}  // namespace llmload
