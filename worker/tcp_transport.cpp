#include "worker/tcp_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace llmload::worker {
namespace {

// One read buffer per thread (= per loop): each read is consumed inside the handler's call
// before the next read starts, so every connection of a loop can share it.
thread_local char t_read_buffer[TcpTransport::kReadBufferSize];

// libuv reads at most 32 times per readable event, and again only while the buffer comes back
// full: the same bound keeps one busy connection from starving the loop's others.
constexpr int kReadsPerEvent = 32;

std::string io_message(const char* what, int status) {
  std::string m = what;
  m += ": ";
  m += uv_strerror(status);
  return m;
}

// The socket's pending error as a libuv code (0: none).
int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

// The kernel's receive stamp of a read (SCM_TIMESTAMPNS, CLOCK_REALTIME) on the monotonic
// timeline; a clock reading where the read carries none.
ReadStamp stamp_of(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts;
    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
    const int64_t rt = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    if (rt > 0) return {unix_to_mono_ns(rt), true};
  }
  return {mono_now_ns(), false};
}

}  // namespace

TcpTransport::TcpTransport(uv_loop_t* loop, TransportHandler* handler, bool kernel_stamps)
    : loop_(loop), handler_(handler), kernel_stamps_(kernel_stamps) {
  // A peer that closed raises SIGPIPE on write(2) and would kill the process. A load generator
  // must see EPIPE instead, so the first transport ignores SIGPIPE for good.
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

int TcpTransport::connect(const sockaddr* addr) {
  if (connecting_ || connected_ || closing_ || fd_ >= 0) return UV_EALREADY;
  socklen_t len = 0;
  if (addr->sa_family == AF_INET)
    len = sizeof(sockaddr_in);
  else if (addr->sa_family == AF_INET6)
    len = sizeof(sockaddr_in6);
  else
    return UV_EAFNOSUPPORT;
  const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  // Without the option every read is simply clock-stamped, as with stamps off.
  if (kernel_stamps_ && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
    kernel_stamps_ = false;
  const int rc = uv_poll_init_socket(loop_, &poll_, fd);
  if (rc < 0) {
    ::close(fd);
    return rc;
  }
  fd_ = fd;
  poll_.data = this;
  int r;
  do {
    r = ::connect(fd, addr, len);
  } while (r != 0 && errno == EINTR);
  // Failed at once (ENETUNREACH, ECONNREFUSED...): the caller reports it; close() frees the fd.
  if (r != 0 && errno != EINPROGRESS) return -errno;
  connecting_ = true;  // done (or failed) when the socket turns writable
  return watch();
}

void TcpTransport::on_poll(uv_poll_t* p, int status, int events) {
  auto* self = static_cast<TcpTransport*>(p->data);
  if (self->closing_) return;
  if (status < 0) self->watching_ = 0;  // libuv stops the handle when it reports an error
  if (self->connecting_) {
    self->finish_connect(status);
    return;
  }
  if (status < 0) {
    self->on_poll_error(status);
    return;
  }
  if ((events & UV_READABLE) != 0 && self->reading_) self->read_ready();
  if (!self->closing_ && (events & UV_WRITABLE) != 0) self->flush_queue();
}

void TcpTransport::finish_connect(int status) {
  connecting_ = false;
  const int64_t t = mono_now_ns();
  int err = socket_error(fd_);
  if (err == 0 && status < 0) err = status;
  if (err == 0) {
    connected_ = true;
    reading_ = true;
    err = watch();
    if (err < 0) {
      handler_->on_transport_error(t, ErrorKind::kReset, false, io_message("read", err));
      return;
    }
    handler_->on_transport_connected(t, t);
    return;
  }
  watch();  // stop polling: nothing more is wanted from this socket
  // ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT from the kernel: the target refused.
  handler_->on_transport_error(t, ErrorKind::kConnectRefused, false, io_message("connect", err));
}

void TcpTransport::read_ready() {
  for (int i = 0; i < kReadsPerEvent && reading_ && !closing_; ++i)
    if (read_once() != ssize_t(kReadBufferSize)) break;
}

ssize_t TcpTransport::read_once() {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  iovec iov{t_read_buffer, sizeof t_read_buffer};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (kernel_stamps_) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  ssize_t n;
  do {
    n = ::recvmsg(fd_, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
  if (n > 0) {
    handler_->on_transport_data(stamp_of(msg), t_read_buffer, size_t(n));
    return n;
  }
  const int err = n < 0 ? -errno : 0;
  reading_ = false;
  watch();
  if (err == 0)
    handler_->on_transport_eof(stamp_of(msg).ns, true);
  else
    handler_->on_transport_error(mono_now_ns(), ErrorKind::kReset, true, io_message("read", err));
  return 0;
}

void TcpTransport::on_poll_error(int status) {
  // libuv reports POLLERR (a reset, most often) as UV_EBADF: reading delivers the data still
  // queued and then the socket's own error, as libuv's stream reads would.
  while (reading_ && !closing_ && read_once() > 0) {
  }
  if (closing_ || (!reading_ && queue_.empty())) return;  // the read reported the end
  const int err = socket_error(fd_);
  reading_ = false;
  queue_.clear();
  watch();
  fail_io("socket", err != 0 ? err : status);
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
  if (nbufs > kMaxWriteBuffers) {
    fail_io("write", UV_E2BIG);
    return IoResult::kError;
  }
  size_t total = 0;
  for (unsigned i = 0; i < nbufs; ++i) total += bufs[i].len;
  size_t done = 0;
  if (queue_.empty()) {  // keep the byte order: never jump ahead of a queued write
    iovec iov[kMaxWriteBuffers];
    for (unsigned i = 0; i < nbufs; ++i) iov[i] = {bufs[i].base, bufs[i].len};
    ssize_t n;
    do {
      n = ::writev(fd_, iov, int(nbufs));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int err = -errno;
      if (err == UV_EPIPE || err == UV_ECONNRESET) return IoResult::kRetry;
      if (err != UV_EAGAIN) {
        fail_io("write", err);
        return IoResult::kError;
      }
      n = 0;
    }
    done = size_t(n);
  }
  if (done == total) return IoResult::kOk;
  enqueue(bufs, nbufs, done, copy, notify && done == 0);
  const int rc = watch();
  if (rc < 0) {
    fail_io("write", rc);
    return IoResult::kError;
  }
  return done == 0 ? IoResult::kQueued : IoResult::kOk;
}

void TcpTransport::enqueue(const uv_buf_t* bufs, unsigned nbufs, size_t skip, bool copy,
                           bool notify) {
  const size_t first = queue_.size();
  if (copy) {
    size_t left = 0;
    for (unsigned i = 0; i < nbufs; ++i) left += bufs[i].len;
    left -= skip;
    auto owned = std::make_unique<char[]>(left);
    size_t off = 0;
    for (unsigned i = 0; i < nbufs; ++i) {
      const size_t s = std::min(skip, bufs[i].len);
      skip -= s;
      std::memcpy(owned.get() + off, bufs[i].base + s, bufs[i].len - s);
      off += bufs[i].len - s;
    }
    const char* base = owned.get();
    queue_.push_back(Pending{base, left, std::move(owned), false});
  } else {
    for (unsigned i = 0; i < nbufs; ++i) {
      const size_t s = std::min(skip, bufs[i].len);
      skip -= s;
      if (s < bufs[i].len) queue_.push_back(Pending{bufs[i].base + s, bufs[i].len - s, {}, false});
    }
  }
  if (queue_.size() > first) queue_.back().notify = notify;
}

void TcpTransport::flush_queue() {
  while (!queue_.empty()) {
    iovec iov[kMaxWriteBuffers];
    const size_t count = std::min<size_t>(queue_.size(), kMaxWriteBuffers);
    for (size_t i = 0; i < count; ++i)
      iov[i] = {const_cast<char*>(queue_[i].base), queue_[i].len};
    ssize_t n;
    do {
      n = ::writev(fd_, iov, int(count));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      const int err = -errno;
      queue_.clear();
      watch();
      fail_io("write", err);
      return;
    }
    // Drop what the kernel took; a kQueued write wholly taken is reported written.
    size_t left = size_t(n), whole = 0, written = 0;
    while (whole < count && left >= queue_[whole].len) {
      left -= queue_[whole].len;
      if (queue_[whole].notify) ++written;
      ++whole;
    }
    if (whole < queue_.size()) {
      queue_[whole].base += left;
      queue_[whole].len -= left;
    }
    queue_.erase(queue_.begin(), queue_.begin() + ptrdiff_t(whole));
    for (; written > 0; --written) {
      handler_->on_transport_written(mono_now_ns());
      if (closing_) return;
    }
    if (whole < count) break;  // the socket buffer is full: wait for the next writable event
  }
  const int rc = watch();
  if (rc < 0) fail_io("write", rc);
}

int TcpTransport::watch() {
  const int want = (reading_ ? UV_READABLE : 0) |
                   (connecting_ || !queue_.empty() ? UV_WRITABLE : 0);
  if (want == watching_) return 0;
  const int rc = want == 0 ? uv_poll_stop(&poll_)
                           : uv_poll_start(&poll_, want, &TcpTransport::on_poll);
  if (rc == 0) watching_ = want;
  return rc;
}

void TcpTransport::fail_io(const char* what, int status) {
  const bool peer = status == UV_EPIPE || status == UV_ECONNRESET;
  handler_->on_transport_error(mono_now_ns(), ErrorKind::kReset, peer, io_message(what, status));
}

void TcpTransport::close() {
  if (closing_) return;
  closing_ = true;
  queue_.clear();  // the caller's buffers need not outlive the close
  if (fd_ >= 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &TcpTransport::on_close);
    return;
  }
  uv_idle_init(loop_, &idle_);  // cannot fail
  idle_.data = this;
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), &TcpTransport::on_close);
}

void TcpTransport::on_close(uv_handle_t* h) {
  auto* self = static_cast<TcpTransport*>(h->data);
  if (self->fd_ >= 0) ::close(self->fd_);
  self->fd_ = -1;
  // Last call: the handler may delete this transport inside it.
  self->handler_->on_transport_closed();
}

}  // namespace llmload::worker
