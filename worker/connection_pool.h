// Keep-alive connections to one target, owned by one loop: idle connections are reused LIFO
// (the warmest first), at most max_connects_in_flight connects run at once (the rest of the
// requests wait in FIFO order: a burst of SYNs would overflow the server's accept queue and
// look like the server's fault), prewarm(n) opens connections before the start instant, and a
// request that meets a keep-alive connection the server just closed is re-sent once on a fresh
// connection (HttpListener::on_retry, counters().retries) instead of failing.
//
// Single-threaded: every call on the loop's thread. Not re-entrant-unsafe: listeners may
// submit or cancel from inside their callbacks.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "worker/dns_cache.h"
#include "worker/endpoint.h"
#include "worker/http_connection.h"
#include "worker/tls_context.h"

namespace llmload::worker {

struct PoolOptions {
  size_t max_connects_in_flight = 64;
  int64_t connect_timeout_ns = 10'000'000'000;  // DESIGN.md default: 10 s
  size_t max_idle = 1'000'000;                  // idle connections beyond this are closed
  const Clock* clock = nullptr;  // connection deadlines (ConnectionConfig::clock); null: monotonic
  bool kernel_timestamps = true;  // ConnectionConfig::kernel_timestamps
};

// A hold on one connection between requests (prompts.sticky: a conversation's turns on one
// connection). A request submitted with a pin goes on the pinned connection when it is alive;
// otherwise on any, which then becomes the pinned one. While pinned, an idle connection waits
// for its holder only; release() gives it back to the pool. The pool clears `conn` when the
// connection closes (the server ended it: the next request pins a fresh one).
struct ConnectionPin {
  HttpConnection* conn = nullptr;
};

struct PoolCounters {
  uint64_t opened = 0;            // connect attempts started
  uint64_t connected = 0;         // ... that succeeded (TCP, and TLS when used)
  uint64_t connect_failures = 0;  // ... that failed or were abandoned
  uint64_t reused = 0;            // requests sent on an idle keep-alive connection
  uint64_t retries = 0;           // requests re-sent after meeting a stale keep-alive connection
  uint64_t queued = 0;            // requests that had to wait (name lookup or connect slot)
  uint64_t tls_resumed = 0;       // TLS handshakes that resumed a cached session
};

class ConnectionPool final : private ConnectionOwner {
 public:
  // `tls` null for http:// targets. `dns` must outlive the pool.
  ConnectionPool(uv_loop_t* loop, Endpoint endpoint, std::shared_ptr<const TlsContext> tls,
                 DnsCache& dns, PoolOptions options = {});
  // Requires every connection to be freed: call shutdown() and run the loop until it is done.
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Sends `request` (which must outlive the request) for `listener`: on an idle connection, a
  // new one, or after waiting for a connect slot. Every outcome arrives through the listener.
  void submit(const HttpRequest& request, HttpListener* listener);
  // The same, on `pin`'s connection (see ConnectionPin); pin null: submit(request, listener).
  void submit(const HttpRequest& request, HttpListener* listener, ConnectionPin* pin);
  // Ends the hold: an idle pinned connection goes back to the pool's idle connections.
  void release(ConnectionPin* pin);
  // Ends the listener's request (queued or in flight) with no further listener call.
  void cancel(HttpListener* listener);
  // Opens up to n more connections ahead of load; they wait idle.
  void prewarm(size_t n);
  // Cancels every request without listener calls and closes every connection; `done` runs on
  // the loop once the last connection is freed (at once if none is alive).
  void shutdown(std::function<void()> done);

  const Endpoint& endpoint() const { return endpoint_; }
  const PoolCounters& counters() const { return counters_; }
  size_t idle() const { return idle_count_; }
  size_t pinned_idle() const { return pinned_idle_; }  // idle connections waiting for a holder
  size_t connecting() const { return connecting_; }
  size_t alive() const { return live_.size(); }
  size_t waiting() const { return queue_.size(); }
  // The latest failure no listener heard (a prewarm connect, a DNS failure), or "".
  const std::string& last_error() const { return last_error_; }

 private:
  struct Waiting {
    const HttpRequest* request;
    HttpListener* listener;
    bool fresh;  // must go on a new connection (a retry)
    ConnectionPin* pin = nullptr;
  };
  // Sends w's request on c, pinning c when w holds a pin.
  void send_on(HttpConnection* c, const Waiting& w);
  void unpin(HttpConnection& c);
  enum class Dns : uint8_t { kUnresolved, kResolving, kResolved };

  void pump();
  void ensure_resolved();
  void open(const Waiting* w);
  HttpConnection* pop_idle();
  void push_idle(HttpConnection& c);
  void unlink_idle(HttpConnection& c);

  // ConnectionOwner
  void on_connection_connected(HttpConnection& c) override;
  void on_connection_idle(HttpConnection& c) override;
  void on_connection_closing(HttpConnection& c, const NetError* error,
                             bool was_connecting) override;
  void on_connection_retry(HttpConnection& c, const HttpRequest& request, HttpListener* listener,
                           int64_t t) override;
  void on_connection_closed(HttpConnection* c) override;

  uv_loop_t* loop_;
  Endpoint endpoint_;
  std::shared_ptr<const TlsContext> tls_;
  TlsSessionCache sessions_;
  DnsCache& dns_;
  PoolOptions options_;
  ConnectionConfig config_;
  Dns dns_state_ = Dns::kUnresolved;
  ResolvedAddress address_;
  std::deque<Waiting> queue_;
  HttpConnection* idle_head_ = nullptr;  // LIFO stack through owner_next
  size_t idle_count_ = 0;
  size_t pinned_idle_ = 0;
  size_t connecting_ = 0;
  size_t prewarm_pending_ = 0;
  std::unordered_set<HttpConnection*> live_;
  PoolCounters counters_;
  std::string last_error_;
  bool pumping_ = false;
  bool pump_again_ = false;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards DNS callbacks
};

}  // namespace llmload::worker
