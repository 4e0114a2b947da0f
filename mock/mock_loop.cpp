#include "mock/mock_loop.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "mock/connection.h"
#include "mock/stream_job.h"

namespace llmload::mock {

MockLoop::MockLoop(int index, const MockOptions& options, const TokenText& text, TruthLog* truth,
                   SSL_CTX* ssl_ctx, int stream_limit)
    : index_(index),
      options_(options),
      text_(text),
      truth_(truth),
      ssl_ctx_(ssl_ctx),
      capacity_(stream_limit),
      rng_(mix64(options.seed, uint64_t(index) + 0x6c6f6f70)),
      read_buf_(new char[kReadBuf]) {}

MockLoop::~MockLoop() {
  stop_and_join();
  if (initialized_) uv_loop_close(&loop_);
  if (timer_fd_ >= 0) ::close(timer_fd_);
}

Expected<bool> MockLoop::init(int listen_fd, int backlog) {
  int r = uv_loop_init(&loop_);
  if (r) {
    ::close(listen_fd);
    return Error{std::string("uv_loop_init: ") + uv_strerror(r)};
  }
  initialized_ = true;
  loop_.data = this;
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  r = uv_tcp_open(&listener_, listen_fd);
  if (!r) r = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), backlog, on_connection);
  if (r) return Error{std::string("listen: ") + uv_strerror(r)};
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) return Error{std::string("timerfd_create: ") + std::strerror(errno)};
  uv_poll_init(&loop_, &timer_poll_, timer_fd_);
  timer_poll_.data = this;
  uv_poll_start(&timer_poll_, UV_READABLE, on_timer);
  uv_async_init(&loop_, &stop_async_, on_stop);
  stop_async_.data = this;
  return true;
}

void MockLoop::start() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void MockLoop::stop_and_join() {
  if (!thread_.joinable()) return;
  uv_async_send(&stop_async_);
  thread_.join();
}

void MockLoop::on_stop(uv_async_t* handle) {
  MockLoop* self = static_cast<MockLoop*>(handle->data);
  self->stopping_ = true;
  self->close_all();
}

void MockLoop::close_all() {
  // close() frees nothing until its uv_close callback, so `next` stays valid.
  for (Connection* c = conns_; c;) {
    Connection* next = c->next;
    if (c->open()) c->close(Connection::CloseMode::kNow, "shutdown");
    c = next;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_poll_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
}

void MockLoop::on_connection(uv_stream_t* server, int status) {
  MockLoop* self = static_cast<MockLoop*>(server->data);
  if (status < 0 || self->stopping_) return;
  auto* c = new Connection(*self);
  int r = c->accept(server);
  if (r) {
    if (c->open())
      c->close(Connection::CloseMode::kNow);
    else
      delete c;
  }
}

void MockLoop::add(Connection* c) {
  c->prev = nullptr;
  c->next = conns_;
  if (conns_) conns_->prev = c;
  conns_ = c;
}

void MockLoop::remove(Connection* c) {
  if (c->prev)
    c->prev->next = c->next;
  else if (conns_ == c)
    conns_ = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
}

void MockLoop::schedule(StreamJob* job, int64_t due_ns) {
  heap_.schedule(job, due_ns);
  if (heap_.top() == job) arm();
}

void MockLoop::unschedule(StreamJob* job) {
  heap_.remove(job);
}

void MockLoop::arm() {
  if (stopping_) return;
  DueHeap::Item* top = heap_.top();
  int64_t due = top ? top->due_ns : 0;
  if (due == armed_ns_) return;
  itimerspec its{};
  if (top) {
    if (due <= 0) due = 1;
    its.it_value.tv_sec = due / 1'000'000'000;
    its.it_value.tv_nsec = due % 1'000'000'000;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr);
  armed_ns_ = due;
}

void MockLoop::on_timer(uv_poll_t* handle, int, int) {
  MockLoop* self = static_cast<MockLoop*>(handle->data);
  uint64_t expirations;
  while (::read(self->timer_fd_, &expirations, sizeof expirations) > 0) {
  }
  self->armed_ns_ = -1;
  self->fire();
}

void MockLoop::fire() {
  int64_t now = mono_now_ns();
  int emitted = 0;
  while (DueHeap::Item* top = heap_.top()) {
    if (top->due_ns > now + kBatchNs) break;
    if (++emitted > kMaxEmitsPerWake) break;
    heap_.pop();
    static_cast<StreamJob*>(top)->on_due(now);
    now = mono_now_ns();
  }
  if (emitted > kMaxEmitsPerWake) {
    // More is due: come back at once, after the loop has polled for I/O.
    itimerspec its{};
    its.it_value.tv_nsec = 1;
    timerfd_settime(timer_fd_, 0, &its, nullptr);
    armed_ns_ = -2;
    return;
  }
  arm();
}

}  // namespace llmload::mock
