#include "analysis/observe/metrics_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "analysis/observe/prometheus.h"
#include "common/cpu_usage.h"

namespace llmload::analysis {

MetricsServer::~MetricsServer() {
  stop();
}

Expected<int> MetricsServer::start(const std::string& addr) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos)
    return Error{"--prometheus '" + addr + "': expected HOST:PORT or :PORT"};
  std::string host = addr.substr(0, colon);
  std::string port = addr.substr(colon + 1);
  if (host.empty()) host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Error{"--prometheus '" + addr + "': " + gai_strerror(rc)};
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return Error{"--prometheus '" + addr + "': " + why};
  }
  freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  listen_fd_ = fd;
  stop_ = false;
  thread_ = std::thread([this] { serve(); });
  return port_;
}

std::string MetricsServer::text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return text_;
}

void MetricsServer::set_text(std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  text_ = std::move(text);
}

void MetricsServer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

void MetricsServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // Read the request head (bounded, with a deadline), answer, close.
    char buf[4096];
    size_t got = 0;
    for (int waited = 0; got < sizeof buf - 1 && waited < 20; ++waited) {
      pollfd q{c, POLLIN, 0};
      if (poll(&q, 1, 100) <= 0) continue;
      ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
      if (n <= 0) break;
      got += size_t(n);
      buf[got] = 0;
      if (std::strstr(buf, "\r\n\r\n")) break;
    }
    buf[got] = 0;
    bool metrics = std::strncmp(buf, "GET /metrics", 12) == 0 && (buf[12] == ' ' || buf[12] == '?');
    std::string body;
    if (metrics) {
      std::lock_guard<std::mutex> lock(mu_);
      body = text_;
    }
    // Read at each scrape: the process's own figures are live, not an interval old.
    if (metrics)
      body += prometheus_process_metrics(process_rss_bytes(), double(process_cpu_ns()) / 1e9);
    std::string resp =
        metrics ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                : "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n";
    if (!metrics) body = "not found: llmload serves /metrics\n";
    resp +=
        "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += size_t(n);
    }
    close(c);
  }
}

}  // namespace llmload::analysis
