// One accepted connection of the mock server: reads requests with llhttp (one at a time;
// pipelined bytes wait, bounded), answers plain requests at once and hands generation requests
// to its StreamJob, and owns the write path (uv_try_write first, then one queued uv_write with
// a bounded backlog, so the per-token path allocates nothing). TLS, when on, sits between the
// socket and everything else (TlsSession). Memory is freed only in the uv_close callback.
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mock/http_request.h"
#include "mock/out_buffer.h"
#include "mock/stream_job.h"
#include "mock/tls.h"

namespace llmload::mock {

class MockLoop;
struct Reply;

class Connection {
 public:
  enum class State {
    kReading,     // waiting for (the rest of) a request
    kResponding,  // a response is being sent; further requests wait in pending_in_
    kClosing,     // closing: nothing more is read or sent
  };
  enum class CloseMode {
    kGraceful,  // after queued writes: FIN
    kReset,     // at once, with RST (SO_LINGER 0)
    kNow,       // at once (the peer is gone or broke the protocol)
  };
  static constexpr size_t kMaxBacklog = 16u << 20;  // unsent bytes before a reader counts as dead

  explicit Connection(MockLoop& loop);
  ~Connection();
  // Accepts from `server` and starts reading. A libuv error code on failure (then the caller
  // closes via close(kNow)).
  int accept(uv_stream_t* server);

  // Sends response bytes (encrypted when TLS is on). False when the connection is closing or
  // the write failed (the connection then closes, aborting the StreamJob).
  bool send(const char* data, size_t n);
  bool send(const OutBuffer& b) { return send(b.data(), b.size()); }
  // The current response is complete: read the next request, or close if not keep-alive.
  void response_done();
  void close(CloseMode mode, const char* job_outcome = "client_closed");
  bool keep_alive() const { return req_.keep_alive; }
  State state() const { return state_; }
  bool open() const { return handle_open_; }
  MockLoop& loop() { return loop_; }

  // Intrusive list of the loop's connections.
  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  friend struct ParserCallbacks;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* h);
  void feed(const char* data, size_t n);
  void pump();
  void dispatch();
  void write_reply(const Reply& reply, const std::string& id);
  void reject_request(int status, const char* message);
  // The drop_next fault's second half: no answer, FIN (the truth log says "dropped").
  void drop_request(const std::string& id);
  bool send_raw(const char* data, size_t n);
  void start_write();

  MockLoop& loop_;
  uv_tcp_t tcp_;
  uv_write_t write_req_;
  llhttp_t parser_;
  State state_ = State::kReading;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool in_pump_ = false;
  bool handle_open_ = false;
  bool drop_next_ = false;  // a drop_next response went out: drop the next request
  std::string inflight_;    // bytes handed to uv_write
  std::string backlog_;     // bytes queued behind them
  std::string pending_in_;
  HttpRequest req_;
  std::string field_, value_;
  size_t head_bytes_ = 0;
  int parse_status_ = 0;  // 413 or 431 when a callback refused the request
  int64_t received_ns_ = 0;
  std::string conn_id_;  // "c<loop>-<n>", the truth log's `conn`
  std::unique_ptr<TlsSession> tls_;
  StreamJob job_;
};

}  // namespace llmload::mock
