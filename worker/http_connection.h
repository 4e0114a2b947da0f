// One HTTP/1.1 client connection: connect (TCP, then TLS when configured), write a prepared
// request, parse the response (HttpResponseParser on llhttp), hand status, headers and body
// bytes up with the timestamp of the socket read they came in, then go idle for the next
// request (keep-alive) or close.
//
// State machine (checked transitions):
//   kNew -> kConnecting -> kIdle <-> kAwaitingResponse -> kReceiving -> kIdle
//   any -> kClosing -> kClosed  (memory is freed only after every uv handle's close callback)
//
// Timing contract: a request's start (request_sent_ns) is the moment its bytes were handed to
// the socket on an established connection; on_connected reports the TCP connect and TLS
// handshake durations of a fresh connection; each body piece carries its socket read's time.
//
// One timer per connection (arm/disarm) serves the connect, ttft, idle and total deadlines:
// re-arming to a later deadline (idle, per chunk) only stores it, with no clock read and no
// timer-heap operation; the timer re-checks when it fires.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "worker/endpoint.h"
#include "worker/error.h"
#include "worker/http_request.h"
#include "worker/http_response.h"
#include "worker/tls_context.h"
#include "worker/transport.h"

namespace llmload::worker {

class HttpConnection;

struct ConnectionPin;  // worker/connection_pool.h

// Receives one request's events. After on_complete or on_error (or after the caller cancels)
// no further call is made for that request.
class HttpListener {
 public:
  virtual ~HttpListener() = default;
  // A fresh connection was opened for this request: TCP connect and TLS handshake durations
  // (tls_ns 0 for plain TCP). Also called for the first request on a connection opened ahead
  // of load (prewarm), which reports that connection's setup. Not called when a pooled
  // connection is reused.
  virtual void on_connected(int64_t t, int64_t connect_ns, int64_t tls_ns) {
    (void)t, (void)connect_ns, (void)tls_ns;
  }
  // The request's first byte was written at t (the request's start). `conn` stays valid until
  // this request ends; use it to arm the request's deadlines.
  virtual void on_request_sent(int64_t t, HttpConnection& conn) { (void)t, (void)conn; }
  // The kernel took none of the request's bytes at t (its socket buffer was full): they wait in
  // the connection's write queue and on_request_sent follows when they are written. The request
  // has not started; arm a deadline so a write that never drains still ends.
  virtual void on_request_write_queued(int64_t t, HttpConnection& conn) { (void)t, (void)conn; }
  // The response head is complete (t); first_byte_ns: the read that brought its first byte.
  virtual void on_response_headers(int64_t t, int64_t first_byte_ns, const ResponseHead& head) = 0;
  // Body bytes (de-chunked), valid only during the call.
  virtual void on_body(int64_t t, const char* data, size_t len) = 0;
  // The response ended at t (its last byte).
  virtual void on_complete(int64_t t) = 0;
  virtual void on_error(int64_t t, const NetError& error) = 0;
  // ConnectionPool only: the request met a stale keep-alive connection and is being sent
  // again on a fresh one (a retry, not an error).
  virtual void on_retry(int64_t t) { (void)t; }

  // The connection carrying this request now (null while queued or after it ended): arm the
  // request's deadlines on it.
  HttpConnection* connection() const { return connection_; }

 private:
  friend class HttpConnection;
  friend class ConnectionPool;
  HttpConnection* connection_ = nullptr;  // kept by HttpConnection
  bool queued_ = false;                   // kept by ConnectionPool
};

// Whoever keeps connections (ConnectionPool) hears about their life. With no owner, a
// connection deletes itself when closed and reports retryable failures to the listener.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The connect attempt ended successfully (the connect slot is free again).
  virtual void on_connection_connected(HttpConnection& c) = 0;
  // Connected with no request (prewarmed, or a keep-alive response just completed).
  virtual void on_connection_idle(HttpConnection& c) = 0;
  // Leaving service (error, peer close, cancel). error is set when no listener heard it
  // (e.g. a prewarm connect that failed). was_connecting: the connect slot is free again.
  virtual void on_connection_closing(HttpConnection& c, const NetError* error,
                                     bool was_connecting) = 0;
  // A request met a stale keep-alive connection: send it again on a fresh one.
  virtual void on_connection_retry(HttpConnection& c, const HttpRequest& request,
                                   HttpListener* listener, int64_t t) = 0;
  // Every handle is closed: delete c now.
  virtual void on_connection_closed(HttpConnection* c) = 0;
};

struct ConnectionConfig {
  const Endpoint* endpoint = nullptr;   // must outlive the connection
  const TlsContext* tls = nullptr;      // null: plain TCP (must outlive the connection)
  TlsSessionCache* sessions = nullptr;  // TLS resumption (may be null)
  // The clock the deadlines (connect, ttft, idle, total) are judged by; null: CLOCK_MONOTONIC.
  // Its time must be the one the deadlines were set in (the loop's).
  const Clock* clock = nullptr;
  // Stamp reads with the kernel's receive time (SO_TIMESTAMPNS) where the platform gives one;
  // false: every read is stamped with a clock reading after the loop woke (the old way).
  bool kernel_timestamps = true;
};

class HttpConnection final : private TransportHandler, private ResponseSink {
 public:
  enum class State : uint8_t {
    kNew,
    kConnecting,
    kIdle,
    kAwaitingResponse,
    kReceiving,
    kClosing,
    kClosed
  };

  // Heap-allocated; freed after close (by the owner, or by itself when owner is null).
  static HttpConnection* create(uv_loop_t* loop, const ConnectionConfig& config,
                                ConnectionOwner* owner);
  // Only an owner deletes a connection, inside on_connection_closed (never earlier).
  ~HttpConnection() override;

  // Starts connecting; the connect deadline is armed (kConnectTimeout). Failures arrive
  // asynchronously, never from inside this call.
  void connect(const sockaddr* addr, int64_t connect_deadline_ns);
  // Sends `request` (which must outlive it) for `listener`: at once when idle, or as soon as
  // the connect completes. Returns false if the connection cannot take a request now.
  bool send(const HttpRequest& request, HttpListener* listener);
  // Ends the current request without any further listener call and closes the connection.
  void cancel();
  // Closes (an idle connection, or at shutdown). Same as cancel.
  void close();

  // One deadline at a time: when it passes, the current request fails with `kind` (or, while
  // connecting, the connect fails). A later arm replaces the deadline.
  void arm(int64_t deadline_ns, ErrorKind kind);
  void disarm();

  State state() const { return state_; }
  bool idle() const { return state_ == State::kIdle; }
  bool reused() const { return responses_completed_ > 0; }
  uint64_t responses_completed() const { return responses_completed_; }
  int64_t request_sent_ns() const { return request_sent_ns_; }
  // Whether the socket read being parsed now was stamped by the kernel (true) or by a clock
  // reading after the loop woke (false). Valid inside listener callbacks for received bytes.
  bool read_kernel_stamped() const { return read_kernel_; }
  bool is_tls() const { return config_.tls != nullptr; }
  bool tls_session_reused() const;
  const Endpoint& endpoint() const { return *config_.endpoint; }

  // Intrusive links for the owner's lists (LIFO idle stack, all connections).
  HttpConnection* owner_prev = nullptr;
  HttpConnection* owner_next = nullptr;
  bool owner_listed = false;
  ConnectionPin* owner_pin = nullptr;  // the owner's: who holds this connection between requests
  bool owner_parked = false;           // idle, waiting for its pin's holder

 private:
  HttpConnection(uv_loop_t* loop, const ConnectionConfig& config, ConnectionOwner* owner);
  void transition(State to);
  const Clock& deadline_clock() const {
    return config_.clock != nullptr ? *config_.clock : monotonic_clock();
  }
  HttpListener* detach();  // ends the current request's link to its listener
  void write_request();
  void request_written(int64_t t);  // the request's first bytes are in the kernel at t
  void finish_response(int64_t t, bool reusable);
  void fail(int64_t t, ErrorKind kind, std::string message);
  void retry(int64_t t, std::string message);
  void begin_close(const NetError* error_for_owner);
  static void on_timer(uv_timer_t* t);
  static void on_timer_closed(uv_handle_t* h);
  void handle_closed();

  // TransportHandler
  void on_transport_connected(int64_t tcp_done_ns, int64_t ready_ns) override;
  void on_transport_data(ReadStamp stamp, const char* data, size_t len) override;
  void on_transport_eof(int64_t t, bool clean) override;
  void on_transport_error(int64_t t, ErrorKind kind, bool peer_closed,
                          std::string_view message) override;
  void on_transport_closed() override;
  void on_transport_written(int64_t t) override;
  // ResponseSink
  bool on_head(const ResponseHead& head) override;
  bool on_body(const char* data, size_t len) override;

  ConnectionConfig config_;
  ConnectionOwner* owner_;
  std::unique_ptr<Transport> transport_;
  HttpResponseParser parser_;
  uv_timer_t timer_;
  State state_ = State::kNew;
  int pending_closes_ = 0;
  const HttpRequest* request_ = nullptr;
  HttpListener* listener_ = nullptr;
  int64_t connect_start_ns_ = 0;
  int64_t request_sent_ns_ = 0;
  int64_t first_byte_ns_ = 0;
  int64_t read_ns_ = 0;  // timestamp of the socket read being parsed
  bool read_kernel_ = false;  // ... and whether the kernel stamped it
  int64_t deadline_ns_ = 0;
  int64_t timer_due_ns_ = 0;  // when the running uv timer fires (0: not running)
  ErrorKind deadline_kind_ = ErrorKind::kConnectTimeout;
  bool connect_failed_ = false;  // deferred synchronous connect failure
  std::string connect_error_;
  uint64_t responses_completed_ = 0;
  int64_t setup_connect_ns_ = 0;  // this connection's TCP connect duration
  int64_t setup_tls_ns_ = 0;      // and TLS handshake (0: plain)
  bool setup_reported_ = false;   // a request has reported them (on_connected)
  bool sent_on_idle_ = false;     // the current request was given to an idle connection
  bool write_queued_ = false;     // its bytes wait in the transport's write queue (kQueued)
};

}  // namespace llmload::worker
