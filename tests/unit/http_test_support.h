// Test helpers for the connection layer: a scripted loopback server on a plain thread
// (blocking sockets, bounded by poll timeouts), a listener that records every callback, and a
// bounded loop runner that checks the loop closes clean (a leaked handle fails the test).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "worker/http_connection.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload::testing {

inline int listen_loopback(uint16_t* port, int backlog = 16) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  if (::listen(fd, backlog) != 0) return -1;
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A loopback port nobody listens on: a connect to it is refused.
inline uint16_t refused_port() {
  uint16_t port = 0;
  ::close(listen_loopback(&port));
  return port;
}

// Reads until "\r\n\r\n" plus Content-Length body bytes; "" on EOF/timeout (5 s).
inline std::string read_request(int fd) {
  std::string buf;
  char tmp[4096];
  while (true) {
    size_t he = buf.find("\r\n\r\n");
    if (he != std::string::npos) {
      size_t body = 0;
      size_t cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < he) body = std::stoul(buf.substr(cl + 16));
      if (buf.size() >= he + 4 + body) return buf;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return "";
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) return "";
    buf.append(tmp, size_t(n));
  }
}

inline void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += size_t(n);
  }
}

// Closes with an RST instead of a FIN.
inline void reset_close(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// Accepts connections one after another on a thread and runs `handler(fd, index)` on each;
// the handler owns fd (close it, or return it closed). Stops on destruction.
class TestServer {
 public:
  using Handler = std::function<void(int fd, int index)>;
  // concurrent: each connection gets its own thread (joined on destruction).
  explicit TestServer(Handler handler, bool concurrent = false)
      : handler_(std::move(handler)), concurrent_(concurrent) {
    listen_fd_ = listen_loopback(&port_);
    thread_ = std::thread([this] { run(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const int index = accepted_++;
      if (concurrent_)
        workers_.emplace_back([this, fd, index] { handler_(fd, index); });
      else
        handler_(fd, index);
    }
  }
  Handler handler_;
  bool concurrent_;
  std::vector<std::thread> workers_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Serves each request on a connection with `response` until the client closes.
inline TestServer::Handler serve_each(std::string response) {
  return [response](int fd, int) {
    while (!read_request(fd).empty()) write_all(fd, response);
    ::close(fd);
  };
}

// Records every listener callback in order.
class RecordingListener : public HttpListener {
 public:
  std::vector<std::string> events;
  std::string body;
  int status = 0;
  std::string request_id;
  std::string content_type;
  NetError error;
  bool done = false;
  int retries = 0;
  int64_t sent_ns = 0, first_byte_ns = 0, headers_ns = 0, complete_ns = 0;
  int64_t connect_ns = -1, tls_ns = -1;
  std::function<void(RecordingListener&)> on_done;  // after complete or error

  void on_connected(int64_t, int64_t c, int64_t t) override {
    connect_ns = c;
    tls_ns = t;
    events.push_back("connected");
  }
  void on_request_sent(int64_t t, HttpConnection&) override {
    sent_ns = t;
    events.push_back("sent");
  }
  void on_response_headers(int64_t t, int64_t fb, const ResponseHead& h) override {
    headers_ns = t;
    first_byte_ns = fb;
    status = h.status;
    request_id = std::string(h.request_id);
    content_type = std::string(h.content_type);
    events.push_back("headers");
  }
  void on_body(int64_t, const char* d, size_t n) override {
    if (events.empty() || events.back() != "body") events.push_back("body");
    body.append(d, n);
  }
  void on_complete(int64_t t) override {
    complete_ns = t;
    done = true;
    events.push_back("complete");
    if (on_done) on_done(*this);
  }
  void on_error(int64_t, const NetError& e) override {
    error = e;
    done = true;
    events.push_back(std::string("error:") + std::string(name(e.kind)));
    if (on_done) on_done(*this);
  }
  void on_retry(int64_t) override {
    ++retries;
    events.push_back("retry");
  }
};

// Runs `loop` until it has nothing left to do, at most `max_ms` (then the test fails), then
// closes it and asserts it closed clean.
inline void run_and_close(uv_loop_t* loop, int max_ms = 10000) {
  uv_timer_t watchdog;
  uv_timer_init(loop, &watchdog);
  static bool fired;
  fired = false;
  uv_timer_start(
      &watchdog,
      [](uv_timer_t* t) {
        fired = true;
        uv_stop(t->loop);
      },
      uint64_t(max_ms), 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog));
  uv_run(loop, UV_RUN_DEFAULT);
  EXPECT_FALSE(fired) << "loop did not finish within " << max_ms << " ms";
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
  if (fired) {  // close whatever is left so the process can go on
    uv_walk(
        loop,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(loop), 0) << "a handle leaked";
}

inline sockaddr_in loopback_addr(uint16_t port) {
  sockaddr_in a{};
  uv_ip4_addr("127.0.0.1", port, &a);
  return a;
}

}  // namespace llmload::testing
