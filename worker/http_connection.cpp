#include "worker/http_connection.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "common/clock.h"
#include "worker/tcp_transport.h"
#include "worker/tls_transport.h"

namespace llmload::worker {
namespace {

using State = HttpConnection::State;

constexpr bool allowed(State from, State to) {
  switch (from) {
    case State::kNew:
      return to == State::kConnecting || to == State::kClosing;
    case State::kConnecting:
      return to == State::kIdle || to == State::kAwaitingResponse || to == State::kClosing;
    case State::kIdle:
      return to == State::kAwaitingResponse || to == State::kClosing;
    case State::kAwaitingResponse:
      return to == State::kReceiving || to == State::kClosing;
    case State::kReceiving:
      return to == State::kIdle || to == State::kClosing;
    case State::kClosing:
      return to == State::kClosed;
    case State::kClosed:
      return false;
  }
  return false;
}

const char* timeout_text(ErrorKind k) {
  switch (k) {
    case ErrorKind::kConnectTimeout:
      return "connect timed out";
    case ErrorKind::kTtftTimeout:
      return "no first token before the ttft deadline";
    case ErrorKind::kIdleTimeout:
      return "no data before the idle deadline";
    case ErrorKind::kTotalTimeout:
      return "request exceeded the total deadline";
    default:
      return "deadline passed";
  }
}

}  // namespace

HttpConnection* HttpConnection::create(uv_loop_t* loop, const ConnectionConfig& config,
                                       ConnectionOwner* owner) {
  return new HttpConnection(loop, config, owner);
}

HttpConnection::HttpConnection(uv_loop_t* loop, const ConnectionConfig& config,
                               ConnectionOwner* owner)
    : config_(config), owner_(owner), parser_(this) {
  TransportHandler* handler = this;
  if (config_.tls != nullptr)
    transport_ = std::make_unique<TlsTransport>(loop, handler, *config_.tls, config_.endpoint->host,
                                                config_.sessions, config_.kernel_timestamps);
  else
    transport_ = std::make_unique<TcpTransport>(loop, handler, config_.kernel_timestamps);
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::transition(State to) {
  if (!allowed(state_, to)) {
    std::fprintf(stderr, "llmload: HttpConnection: invalid transition %d -> %d\n", int(state_),
                 int(to));
    std::abort();  // an invariant, not an input error
  }
  state_ = to;
}

bool HttpConnection::tls_session_reused() const {
  return config_.tls != nullptr && static_cast<TlsTransport*>(transport_.get())->session_reused();
}

void HttpConnection::connect(const sockaddr* addr, int64_t connect_deadline_ns) {
  transition(State::kConnecting);
  connect_start_ns_ = mono_now_ns();
  int rc = transport_->connect(addr);
  if (rc < 0) {
    // Deliver from the timer, never from inside connect(): callers may resubmit in on_error.
    connect_failed_ = true;
    connect_error_ = std::string("connect: ") + uv_strerror(rc);
    timer_due_ns_ = connect_start_ns_;
    uv_timer_start(&timer_, &HttpConnection::on_timer, 0, 0);
    return;
  }
  arm(connect_deadline_ns, ErrorKind::kConnectTimeout);
}

bool HttpConnection::send(const HttpRequest& request, HttpListener* listener) {
  if (listener_ != nullptr ||
      (state_ != State::kIdle && state_ != State::kConnecting && state_ != State::kNew))
    return false;
  request_ = &request;
  listener_ = listener;
  listener->connection_ = this;
  // Only a request written on a connection that was already idle can meet one the server
  // closed under it (a keep-alive one, or one opened ahead of load): that one is retried.
  sent_on_idle_ = state_ == State::kIdle;
  if (state_ != State::kIdle) return true;  // written once connected
  if (!setup_reported_) {
    // Opened ahead of load (prewarm): its first request reports the connection's setup.
    setup_reported_ = true;
    listener->on_connected(mono_now_ns(), setup_connect_ns_, setup_tls_ns_);
    if (state_ != State::kIdle || listener_ != listener) return true;  // cancelled inside
  }
  write_request();
  return true;
}

void HttpConnection::write_request() {
  parser_.reset();
  first_byte_ns_ = 0;
  uv_buf_t buf = request_->buf();
  const int64_t t = mono_now_ns();
  IoResult r = transport_->write(&buf, 1);
  if (state_ == State::kClosing) return;  // the transport reported the failure already
  if (r == IoResult::kRetry) {
    if (sent_on_idle_)
      retry(t, "keep-alive connection closed by the server before the request was written");
    else
      fail(t, ErrorKind::kReset, "write: connection closed by the peer");
    return;
  }
  if (r == IoResult::kError) {
    fail(t, ErrorKind::kReset, "write failed");
    return;
  }
  transition(State::kAwaitingResponse);
  if (r == IoResult::kQueued) {
    // Not one byte in the kernel yet: the request starts when the transport says it is written
    // (DESIGN.md: a request starts at its first byte written), never before.
    write_queued_ = true;
    listener_->on_request_write_queued(t, *this);
    return;
  }
  request_written(t);
}

void HttpConnection::request_written(int64_t t) {
  write_queued_ = false;
  request_sent_ns_ = t;
  listener_->on_request_sent(t, *this);
}

void HttpConnection::on_transport_written(int64_t t) {
  if (!write_queued_ || state_ != State::kAwaitingResponse || listener_ == nullptr) return;
  request_written(t);
}

void HttpConnection::arm(int64_t deadline_ns, ErrorKind kind) {
  deadline_ns_ = deadline_ns;
  deadline_kind_ = kind;
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  if (timer_due_ns_ != 0 && timer_due_ns_ <= deadline_ns) return;  // fires first, re-checks
  const int64_t now = deadline_clock().now_ns();
  const int64_t left = deadline_ns - now;
  const uint64_t ms = left <= 0 ? 0 : uint64_t((left + 999'999) / 1'000'000);
  timer_due_ns_ = deadline_ns;
  uv_timer_start(&timer_, &HttpConnection::on_timer, ms, 0);
}

void HttpConnection::disarm() {
  deadline_ns_ = 0;
  if (timer_due_ns_ != 0 && !connect_failed_) {
    uv_timer_stop(&timer_);
    timer_due_ns_ = 0;
  }
}

void HttpConnection::on_timer(uv_timer_t* handle) {
  auto* self = static_cast<HttpConnection*>(handle->data);
  self->timer_due_ns_ = 0;
  if (self->state_ == State::kClosing || self->state_ == State::kClosed) return;
  const int64_t now = self->deadline_clock().now_ns();
  if (self->connect_failed_) {
    self->fail(now, ErrorKind::kConnectRefused, self->connect_error_);
    return;
  }
  if (self->deadline_ns_ == 0) return;
  if (now < self->deadline_ns_) {  // re-armed later (idle per chunk): sleep until then
    self->arm(self->deadline_ns_, self->deadline_kind_);
    return;
  }
  const ErrorKind kind = self->deadline_kind_;
  self->deadline_ns_ = 0;
  self->fail(now, kind, timeout_text(kind));
}

void HttpConnection::on_transport_connected(int64_t tcp_done_ns, int64_t ready_ns) {
  const bool tls = config_.tls != nullptr;
  const int64_t connect_ns = tcp_done_ns - connect_start_ns_;
  const int64_t tls_ns = tls ? ready_ns - tcp_done_ns : 0;
  setup_connect_ns_ = connect_ns;
  setup_tls_ns_ = tls_ns;
  disarm();  // the connect deadline is met
  if (owner_ != nullptr) owner_->on_connection_connected(*this);
  if (state_ != State::kConnecting) return;
  if (listener_ == nullptr) {
    transition(State::kIdle);
    if (owner_ != nullptr) owner_->on_connection_idle(*this);
    return;
  }
  // Idle for an instant, so write_request sees a ready connection.
  transition(State::kIdle);
  setup_reported_ = true;
  HttpListener* l = listener_;
  l->on_connected(ready_ns, connect_ns, tls_ns);
  if (state_ != State::kIdle || listener_ != l) return;  // cancelled inside on_connected
  write_request();
}

void HttpConnection::on_transport_data(ReadStamp stamp, const char* data, size_t len) {
  const int64_t t = stamp.ns;
  if (state_ == State::kIdle) {  // bytes nobody asked for: this connection is not reusable
    begin_close(nullptr);
    return;
  }
  if (state_ == State::kAwaitingResponse) {
    // An answer before the write's completion was reported (the same loop turn): the bytes
    // were in the kernel by then.
    if (write_queued_ && listener_ != nullptr) request_written(t);
    if (state_ != State::kAwaitingResponse) return;
    first_byte_ns_ = t;
    transition(State::kReceiving);
  }
  if (state_ != State::kReceiving) return;
  read_ns_ = t;
  read_kernel_ = stamp.kernel;
  size_t consumed = 0;
  HttpParseStatus st = parser_.feed(data, len, &consumed);
  switch (st) {
    case HttpParseStatus::kNeedMore:
      return;
    case HttpParseStatus::kComplete:
      finish_response(t, parser_.keep_alive() && consumed == len);
      return;
    case HttpParseStatus::kError:
      fail(t, ErrorKind::kProtocol, parser_.error());
      return;
    case HttpParseStatus::kStopped:
      return;  // the listener cancelled inside a callback; the connection is closing
  }
}

bool HttpConnection::on_head(const ResponseHead& head) {
  if (listener_ == nullptr) return false;
  listener_->on_response_headers(read_ns_, first_byte_ns_, head);
  return listener_ != nullptr && state_ == State::kReceiving;
}

bool HttpConnection::on_body(const char* data, size_t len) {
  if (listener_ == nullptr) return false;
  listener_->on_body(read_ns_, data, len);
  return listener_ != nullptr && state_ == State::kReceiving;
}

HttpListener* HttpConnection::detach() {
  write_queued_ = false;
  HttpListener* l = listener_;
  if (l != nullptr) l->connection_ = nullptr;
  listener_ = nullptr;
  request_ = nullptr;
  return l;
}

void HttpConnection::finish_response(int64_t t, bool reusable) {
  HttpListener* l = detach();
  ++responses_completed_;
  disarm();
  if (reusable) {
    transition(State::kIdle);
    if (owner_ != nullptr) owner_->on_connection_idle(*this);
  } else {
    begin_close(nullptr);
  }
  // Last: the listener may submit its next request, which may land on this connection.
  if (l != nullptr) l->on_complete(t);
}

void HttpConnection::on_transport_eof(int64_t t, bool clean) {
  switch (state_) {
    case State::kIdle:
      begin_close(nullptr);  // the server closed an idle keep-alive connection
      return;
    case State::kAwaitingResponse:
      if (sent_on_idle_)
        retry(t, "keep-alive connection closed by the server before any response byte");
      else
        fail(t, ErrorKind::kTruncated, "connection closed by the server before any response byte");
      return;
    case State::kReceiving: {
      if (!clean) {
        fail(t, ErrorKind::kTruncated,
             "TLS stream ended without close_notify before the end of the response");
        return;
      }
      HttpParseStatus st = parser_.finish();
      if (st == HttpParseStatus::kComplete)
        finish_response(t, false);
      else if (st != HttpParseStatus::kStopped)
        fail(t, parser_.truncated() ? ErrorKind::kTruncated : ErrorKind::kProtocol,
             parser_.error());
      return;
    }
    default:
      return;
  }
}

void HttpConnection::on_transport_error(int64_t t, ErrorKind kind, bool peer_closed,
                                        std::string_view message) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  if (state_ == State::kIdle) {
    begin_close(nullptr);
    return;
  }
  if (state_ == State::kAwaitingResponse && peer_closed && sent_on_idle_) {
    retry(t, std::string(message));
    return;
  }
  fail(t, kind, std::string(message));
}

void HttpConnection::fail(int64_t t, ErrorKind kind, std::string message) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  NetError err{kind, false, config_.endpoint->display() + ": " + message};
  HttpListener* l = detach();
  begin_close(l == nullptr ? &err : nullptr);
  if (l != nullptr) l->on_error(t, err);
}

void HttpConnection::retry(int64_t t, std::string message) {
  const HttpRequest* req = request_;
  HttpListener* l = detach();
  begin_close(nullptr);
  if (l == nullptr) return;
  if (owner_ != nullptr) {
    owner_->on_connection_retry(*this, *req, l, t);
  } else {
    l->on_error(t, NetError{ErrorKind::kReset, true, config_.endpoint->display() + ": " + message});
  }
}

void HttpConnection::cancel() {
  detach();
  begin_close(nullptr);
}

void HttpConnection::close() {
  cancel();
}

void HttpConnection::begin_close(const NetError* error_for_owner) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  const bool was_connecting = state_ == State::kConnecting;
  const bool started = state_ != State::kNew;
  transition(State::kClosing);
  pending_closes_ = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &HttpConnection::on_timer_closed);
  transport_->close();
  if (owner_ != nullptr)
    owner_->on_connection_closing(*this, error_for_owner, was_connecting && started);
}

void HttpConnection::on_timer_closed(uv_handle_t* h) {
  static_cast<HttpConnection*>(h->data)->handle_closed();
}

void HttpConnection::on_transport_closed() {
  handle_closed();
}

void HttpConnection::handle_closed() {
  if (--pending_closes_ > 0) return;
  transition(State::kClosed);
  if (owner_ != nullptr)
    owner_->on_connection_closed(this);
  else
    delete this;
}

}  // namespace llmload::worker
