#include "worker/tcp_transport.h"

#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace llmload::worker {
namespace {

// One read buffer per thread (= per loop): libuv calls alloc then read then the read callback
// back to back, and the data is consumed inside the callback, so every connection of a loop
// can share it.
thread_local char t_read_buffer[TcpTransport::kReadBufferSize];

// A pending write that had to be queued. Owned copy (TLS) or caller's buffers (plain).
struct WriteReq {
  uv_write_t req;
  TcpTransport* self;
  std::unique_ptr<char[]> owned;
  bool notify = false;  // returned kQueued: report its completion (on_transport_written)
};

std::string io_message(const char* what, int status) {
  std::string m = what;
  m += ": ";
  m += uv_strerror(status);
  return m;
}

}  // namespace

TcpTransport::TcpTransport(uv_loop_t* loop, TransportHandler* handler) : handler_(handler) {
  // libuv writes with write(2): a peer that closed would raise SIGPIPE and kill the process.
  // A load generator must see EPIPE instead, so the first transport ignores SIGPIPE for good.
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
  uv_tcp_init(loop, &tcp_);  // cannot fail: no socket is created until connect
  tcp_.data = this;
  connect_req_.data = this;
}

int TcpTransport::connect(const sockaddr* addr) {
  if (connecting_ || connected_ || closing_) return UV_EALREADY;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, addr, &TcpTransport::on_connect);
  if (rc == 0) connecting_ = true;
  return rc;
}

void TcpTransport::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<TcpTransport*>(req->data);
  self->connecting_ = false;
  if (self->closing_ || status == UV_ECANCELED) return;
  const int64_t t = mono_now_ns();
  if (status < 0) {
    // ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT from the kernel: the target refused.
    self->handler_->on_transport_error(t, ErrorKind::kConnectRefused, false,
                                       io_message("connect", status));
    return;
  }
  self->connected_ = true;
  uv_tcp_nodelay(&self->tcp_, 1);
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), &TcpTransport::on_alloc,
                         &TcpTransport::on_read);
  if (rc < 0) {
    self->handler_->on_transport_error(t, ErrorKind::kReset, false, io_message("read", rc));
    return;
  }
  self->handler_->on_transport_connected(t, t);
}

void TcpTransport::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buffer;
  buf->len = sizeof t_read_buffer;
}

void TcpTransport::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<TcpTransport*>(s->data);
  if (nread == 0 || self->closing_) return;
  const int64_t t = mono_now_ns();  // the one clock read for this socket read
  if (nread > 0) {
    self->handler_->on_transport_data(t, buf->base, size_t(nread));
  } else if (nread == UV_EOF) {
    uv_read_stop(s);
    self->handler_->on_transport_eof(t, true);
  } else {
    uv_read_stop(s);
    self->handler_->on_transport_error(t, ErrorKind::kReset, true, io_message("read", int(nread)));
  }
}

IoResult TcpTransport::write(const uv_buf_t* bufs, unsigned nbufs) {
  return write_impl(bufs, nbufs, false, true);
}

IoResult TcpTransport::write_copy(const char* data, size_t len, bool notify) {
  uv_buf_t b = uv_buf_init(const_cast<char*>(data), unsigned(len));
  return write_impl(&b, 1, true, notify);
}

IoResult TcpTransport::write_impl(const uv_buf_t* bufs, unsigned nbufs, bool copy, bool notify) {
  if (!connected_ || closing_) return IoResult::kError;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  size_t total = 0;
  for (unsigned i = 0; i < nbufs; ++i) total += bufs[i].len;
  size_t done = 0;
  if (writes_in_flight_ == 0) {  // keep the byte order: never jump ahead of a queued write
    int n = uv_try_write(stream, bufs, nbufs);
    if (n == UV_EPIPE || n == UV_ECONNRESET) return IoResult::kRetry;
    if (n < 0 && n != UV_EAGAIN) {
      fail_io("write", n);
      return IoResult::kError;
    }
    if (n > 0) done = size_t(n);
  }
  if (done == total) return IoResult::kOk;

  // Queue the rest: skip the bytes already written.
  auto* w = new WriteReq;
  w->self = this;
  w->req.data = w;
  w->notify = notify && done == 0;
  uv_buf_t rest[8];
  unsigned nrest = 0;
  size_t skip = done;
  if (copy) {
    const size_t left = total - done;
    w->owned.reset(new char[left]);
    size_t off = 0;
    for (unsigned i = 0; i < nbufs; ++i) {
      size_t take = bufs[i].len;
      const char* base = bufs[i].base;
      if (skip >= take) {
        skip -= take;
        continue;
      }
      base += skip;
      take -= skip;
      skip = 0;
      std::memcpy(w->owned.get() + off, base, take);
      off += take;
    }
    rest[nrest++] = uv_buf_init(w->owned.get(), unsigned(left));
  } else {
    for (unsigned i = 0; i < nbufs; ++i) {
      if (skip >= bufs[i].len) {
        skip -= bufs[i].len;
        continue;
      }
      if (nrest == 8) {  // more than 8 pieces: HttpConnection never sends more than 2
        delete w;
        fail_io("write", UV_E2BIG);
        return IoResult::kError;
      }
      rest[nrest++] = uv_buf_init(bufs[i].base + skip, unsigned(bufs[i].len - skip));
      skip = 0;
    }
  }
  int rc = uv_write(&w->req, stream, rest, nrest, &TcpTransport::on_write);
  if (rc < 0) {
    delete w;
    if (done == 0 && (rc == UV_EPIPE || rc == UV_ECONNRESET)) return IoResult::kRetry;
    fail_io("write", rc);
    return IoResult::kError;
  }
  ++writes_in_flight_;
  return done == 0 ? IoResult::kQueued : IoResult::kOk;
}

void TcpTransport::on_write(uv_write_t* req, int status) {
  std::unique_ptr<WriteReq> w(static_cast<WriteReq*>(req->data));
  TcpTransport* self = w->self;
  --self->writes_in_flight_;
  if (status < 0 && status != UV_ECANCELED && !self->closing_) {
    self->fail_io("write", status);
    return;
  }
  if (status == 0 && w->notify && !self->closing_)
    self->handler_->on_transport_written(mono_now_ns());
}

void TcpTransport::fail_io(const char* what, int status) {
  const bool peer = status == UV_EPIPE || status == UV_ECONNRESET;
  handler_->on_transport_error(mono_now_ns(), ErrorKind::kReset, peer, io_message(what, status));
}

void TcpTransport::close() {
  if (closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &TcpTransport::on_close);
}

void TcpTransport::on_close(uv_handle_t* h) {
  auto* self = static_cast<TcpTransport*>(h->data);
  // Last call: the handler may delete this transport inside it.
  self->handler_->on_transport_closed();
}

}  // namespace llmload::worker
