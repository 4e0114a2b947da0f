#include "mock/connection.h"

#include <cctype>
#include <cstring>

#include "common/clock.h"
#include "mock/http_head.h"
#include "mock/mock_loop.h"
#include "mock/request_plan.h"

namespace llmload::mock {

// llhttp's C callbacks, adapted in one place.
struct ParserCallbacks {
  static Connection* self(llhttp_t* p) { return static_cast<Connection*>(p->data); }
  static int count(Connection* c, size_t n) {
    c->head_bytes_ += n;
    if (c->head_bytes_ > c->loop_.options().max_header_bytes) {
      c->parse_status_ = 431;
      return -1;
    }
    return 0;
  }
  static int on_message_begin(llhttp_t* p) {
    Connection* c = self(p);
    c->req_.clear();
    c->field_.clear();
    c->value_.clear();
    c->head_bytes_ = 0;
    c->parse_status_ = 0;
    return 0;
  }
  static int on_url(llhttp_t* p, const char* at, size_t n) {
    Connection* c = self(p);
    c->req_.url.append(at, n);
    return count(c, n);
  }
  static int on_method(llhttp_t* p, const char* at, size_t n) {
    self(p)->req_.method.append(at, n);
    return count(self(p), n);
  }
  static int on_header_field(llhttp_t* p, const char* at, size_t n) {
    Connection* c = self(p);
    if (c->field_.size() < 64) c->field_.append(at, std::min<size_t>(n, 64));
    return count(c, n);
  }
  static int on_header_value(llhttp_t* p, const char* at, size_t n) {
    Connection* c = self(p);
    if (c->field_.size() >= 7 && strncasecmp(c->field_.c_str(), "x-mock-", 7) == 0)
      c->value_.append(at, n);
    return count(c, n);
  }
  static int on_header_value_complete(llhttp_t* p) {
    Connection* c = self(p);
    if (c->field_.size() >= 7 && strncasecmp(c->field_.c_str(), "x-mock-", 7) == 0) {
      for (char& ch : c->field_) ch = char(std::tolower(static_cast<unsigned char>(ch)));
      c->req_.mock_headers.emplace_back(c->field_, c->value_);
    }
    c->field_.clear();
    c->value_.clear();
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    Connection* c = self(p);
    if (p->content_length > c->loop_.options().max_body_bytes && (p->flags & F_CONTENT_LENGTH)) {
      c->parse_status_ = 413;
      return -1;
    }
    return 0;
  }
  static int on_body(llhttp_t* p, const char* at, size_t n) {
    Connection* c = self(p);
    if (c->req_.body.size() + n > c->loop_.options().max_body_bytes) {
      c->parse_status_ = 413;
      return -1;
    }
    c->req_.body.append(at, n);
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    Connection* c = self(p);
    c->req_.keep_alive = llhttp_should_keep_alive(p) != 0;
    c->received_ns_ = mono_now_ns();
    return HPE_PAUSED;  // one request at a time: the rest waits in pending_in_
  }
  static const llhttp_settings_t* settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t x;
      llhttp_settings_init(&x);
      x.on_message_begin = on_message_begin;
      x.on_url = on_url;
      x.on_method = on_method;
      x.on_header_field = on_header_field;
      x.on_header_value = on_header_value;
      x.on_header_value_complete = on_header_value_complete;
      x.on_headers_complete = on_headers_complete;
      x.on_body = on_body;
      x.on_message_complete = on_message_complete;
      return x;
    }();
    return &s;
  }
};

Connection::Connection(MockLoop& loop) : loop_(loop), job_(*this, loop) {
  llhttp_init(&parser_, HTTP_REQUEST, ParserCallbacks::settings());
  parser_.data = this;
  tcp_.data = this;
  write_req_.data = this;
}

Connection::~Connection() = default;

int Connection::accept(uv_stream_t* server) {
  int r = uv_tcp_init(loop_.uv(), &tcp_);
  if (r) return r;
  handle_open_ = true;
  loop_.add(this);
  conn_id_ =
      "c" + std::to_string(loop_.index()) + "-" + std::to_string(loop_.next_connection_seq());
  r = uv_accept(server, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (r) return r;
  uv_tcp_nodelay(&tcp_, 1);
  if (loop_.ssl_ctx()) tls_ = std::make_unique<TlsSession>(loop_.ssl_ctx());
  LoopCounters::bump(loop_.counters().connections);
  return uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  Connection* c = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(c->loop_.read_buffer(), unsigned(c->loop_.read_buffer_size()));
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  Connection* c = static_cast<Connection*>(s->data);
  if (nread < 0) {
    c->close(CloseMode::kNow);
    return;
  }
  if (nread == 0 || c->state_ == State::kClosing) return;
  if (!c->tls_) {
    c->feed(buf->base, size_t(nread));
    return;
  }
  OutBuffer& plain = c->loop_.tls_plain();
  OutBuffer& cipher = c->loop_.tls_cipher();
  plain.clear();
  cipher.clear();
  bool ok = c->tls_->on_cipher(buf->base, size_t(nread), plain, cipher);
  if (!cipher.empty() && !c->send_raw(cipher.data(), cipher.size())) return;
  if (!plain.empty()) {
    std::string copy(plain.view());  // the loop's buffer is reused by anything we send
    c->feed(copy.data(), copy.size());
  }
  if (!ok) c->close(CloseMode::kNow);
}

void Connection::feed(const char* data, size_t n) {
  const MockOptions& o = loop_.options();
  if (pending_in_.size() + n > o.max_body_bytes + o.max_header_bytes + 65536) {
    close(CloseMode::kNow);  // a client that keeps sending while we answer: bounded
    return;
  }
  pending_in_.append(data, n);
  if (state_ == State::kReading) pump();
}

void Connection::pump() {
  if (in_pump_) return;
  in_pump_ = true;
  while (state_ == State::kReading && !pending_in_.empty()) {
    llhttp_errno_t err = llhttp_execute(&parser_, pending_in_.data(), pending_in_.size());
    if (err == HPE_OK) {
      pending_in_.clear();
      break;
    }
    if (err == HPE_PAUSED) {
      size_t used = size_t(llhttp_get_error_pos(&parser_) - pending_in_.data());
      pending_in_.erase(0, std::min(used, pending_in_.size()));
      dispatch();
      continue;
    }
    if (parse_status_ == 413)
      reject_request(413, "request body is over the limit");
    else if (parse_status_ == 431)
      reject_request(431, "request headers are over the limit");
    else
      reject_request(400, "malformed HTTP request");
    break;
  }
  in_pump_ = false;
}

void Connection::reject_request(int status, const char* message) {
  Reply r = error_reply(req_.path(), status, message);
  req_.keep_alive = false;
  state_ = State::kResponding;
  std::string id =
      "mock-" + std::to_string(loop_.index()) + "-" + std::to_string(loop_.next_request_seq());
  LoopCounters::bump(loop_.counters().requests);
  received_ns_ = mono_now_ns();
  write_reply(r, id);
}

void Connection::dispatch() {
  state_ = State::kResponding;
  LoopCounters::bump(loop_.counters().requests);
  uint64_t seq = loop_.next_request_seq();
  std::string id = "mock-" + std::to_string(loop_.index()) + "-" + std::to_string(seq);
  if (drop_next_) {
    drop_request(id);
    return;
  }
  PlanContext ctx{
      loop_.options(), loop_.text(), loop_.rng(), id, mix64(uint64_t(loop_.index()), seq),
      wall_now_ns(), loop_.metrics_page(), loop_.loaded_at()};
  RequestPlan plan = plan_request(req_, ctx);
  if (plan.kind == RequestPlan::Kind::kReply) {
    write_reply(plan.reply, id);
    return;
  }
  // drop_next: this response is normal; the next request on this connection is dropped.
  if (plan.gen.fault == Fault::kDropNext) drop_next_ = true;
  TruthRecord t;
  t.id = id;
  t.path = std::string(req_.path());
  t.loop = loop_.index();
  t.received_ns = received_ns_;
  t.conn = conn_id_;
  if (loop_.options().truth_text) {
    t.with_text = true;
    t.body = req_.body;
  }
  if (loop_.truth() != nullptr) t.body_hash = TruthLog::hash(req_.body);
  job_.begin(std::move(plan.gen), std::move(t));
}

void Connection::drop_request(const std::string& id) {
  if (TruthLog* log = loop_.truth()) {
    TruthRecord t;
    t.id = id;
    t.path = std::string(req_.path());
    t.loop = loop_.index();
    t.fault = fault_name(Fault::kDropNext);
    t.conn = conn_id_;
    t.outcome = "dropped";
    t.received_ns = received_ns_;
    log->push(std::move(t));
  }
  close(CloseMode::kGraceful, "dropped");
}

void Connection::write_reply(const Reply& reply, const std::string& id) {
  OutBuffer& out = loop_.out();
  out.clear();
  append_head(out, reply.status, reply.content_type, int64_t(reply.body.size()), req_.keep_alive,
              id, reply.extra_headers);
  out.append(reply.body);
  const int64_t sent_ns = mono_now_ns();
  if (!send(out)) return;
  if (TruthLog* log = loop_.truth()) {
    TruthRecord t;
    t.id = id;
    t.path = std::string(req_.path());
    t.loop = loop_.index();
    t.status = reply.status;
    t.body_hash = TruthLog::hash(req_.body);
    t.outcome = reply.status < 400 ? "ok" : "error";
    t.conn = conn_id_;
    t.received_ns = received_ns_;
    t.headers_ns = t.last_byte_ns = sent_ns;
    log->push(std::move(t));
  }
  response_done();
}

void Connection::response_done() {
  if (state_ == State::kClosing) return;
  if (!req_.keep_alive) {
    close(CloseMode::kGraceful);
    return;
  }
  state_ = State::kReading;
  llhttp_resume(&parser_);
  if (!in_pump_) pump();
}

bool Connection::send(const char* data, size_t n) {
  if (state_ == State::kClosing || !handle_open_) return false;
  if (!tls_) return send_raw(data, n);
  OutBuffer& cipher = loop_.tls_cipher();
  cipher.clear();
  if (!tls_->write(data, n, cipher)) {
    close(CloseMode::kNow);
    return false;
  }
  return send_raw(cipher.data(), cipher.size());
}

bool Connection::send_raw(const char* data, size_t n) {
  if (n == 0) return true;
  if (writing_) {
    if (backlog_.size() + n > kMaxBacklog) {
      close(CloseMode::kNow, "client_closed");
      return false;
    }
    backlog_.append(data, n);
    return true;
  }
  uv_buf_t b = uv_buf_init(const_cast<char*>(data), unsigned(n));
  int r = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1);
  if (r == int(n)) return true;
  if (r < 0 && r != UV_EAGAIN) {
    close(CloseMode::kNow);
    return false;
  }
  size_t done = r > 0 ? size_t(r) : 0;
  inflight_.assign(data + done, n - done);
  start_write();
  return true;
}

void Connection::start_write() {
  uv_buf_t b = uv_buf_init(inflight_.data(), unsigned(inflight_.size()));
  writing_ = true;
  int r = uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, on_write);
  if (r) {
    writing_ = false;
    close(CloseMode::kNow);
  }
}

void Connection::on_write(uv_write_t* req, int status) {
  Connection* c = static_cast<Connection*>(req->data);
  c->writing_ = false;
  c->inflight_.clear();
  if (status < 0) {
    if (status != UV_ECANCELED) c->close(CloseMode::kNow);
    return;
  }
  if (!c->backlog_.empty()) {
    c->inflight_.swap(c->backlog_);
    c->start_write();
    return;
  }
  if (c->close_after_write_) {
    c->close_after_write_ = false;
    c->state_ = State::kReading;  // let close() run its course
    c->close(CloseMode::kGraceful);
  }
}

void Connection::close(CloseMode mode, const char* job_outcome) {
  if (!handle_open_) return;
  if (state_ == State::kClosing && !(mode != CloseMode::kGraceful && close_after_write_)) return;
  state_ = State::kClosing;
  job_.abort(loop_.stopping() ? "shutdown" : job_outcome);
  if (mode == CloseMode::kGraceful && writing_) {
    close_after_write_ = true;  // FIN once the queued bytes are out
    return;
  }
  close_after_write_ = false;
  handle_open_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  if (mode == CloseMode::kReset)
    uv_tcp_close_reset(&tcp_, on_close);
  else
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Connection::on_close(uv_handle_t* h) {
  Connection* c = static_cast<Connection*>(h->data);
  c->loop_.remove(c);
  delete c;
}

}  // namespace llmload::mock
