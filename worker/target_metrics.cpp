#include "worker/target_metrics.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/clock.h"
#include "common/prom_text.h"
#include "common/target_series.h"
#include "worker/http_response.h"

namespace llmload::worker {
namespace {

struct UrlParts {
  std::string host;  // without brackets
  std::string port = "80";
  std::string path = "/";
  std::string host_header;
};

Expected<UrlParts> split_url(const std::string& url) {
  if (!url.starts_with("http://")) return Error{"not an http:// URL"};
  UrlParts u;
  std::string rest = url.substr(7);
  const std::size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    u.path = rest.substr(slash);
    rest.resize(slash);
  }
  u.host_header = rest;
  std::size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return Error{"bad IPv6 host"};
    u.host = rest.substr(1, close - 1);
    colon = rest.size() > close + 1 && rest[close + 1] == ':' ? close + 1 : std::string::npos;
  } else {
    u.host = rest.substr(0, colon);
  }
  if (colon != std::string::npos) u.port = rest.substr(colon + 1);
  if (u.host.empty() || u.port.empty()) return Error{"no host or port"};
  return u;
}

class BodySink final : public ResponseSink {
 public:
  explicit BodySink(std::size_t max) : max_(max) {}
  bool on_head(const ResponseHead&) override { return true; }
  bool on_body(const char* data, size_t len) override {
    if (body.size() + len > max_) {
      too_big = true;
      return false;
    }
    body.append(data, len);
    return true;
  }
  std::string body;
  bool too_big = false;

 private:
  std::size_t max_;
};

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_fd(int fd, short events, int64_t deadline_ns) {
  for (;;) {
    const int64_t left_ms = (deadline_ns - mono_now_ns()) / 1'000'000;
    if (left_ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, int(std::min<int64_t>(left_ms, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // the next call reports the error
  }
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Expected<std::string> http_get(const std::string& url, int64_t timeout_ns, std::size_t max_bytes) {
  const int64_t deadline = mono_now_ns() + timeout_ns;
  auto parts = split_url(url);
  if (!parts) return Error{parts.error()};
  const UrlParts& u = *parts;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); rc != 0) {
    return Error{"cannot resolve " + u.host + ": " + gai_strerror(rc)};
  }
  Fd sock;
  int err = 0;
  for (addrinfo* a = res; a != nullptr && sock.fd < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      err = errno;
      ::close(fd);
      continue;
    }
    if (!wait_fd(fd, POLLOUT, deadline)) {
      ::close(fd);
      ::freeaddrinfo(res);
      return Error{"connect: no answer within " + std::to_string(timeout_ns / 1'000'000) + " ms"};
    }
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      continue;
    }
    sock.fd = fd;
  }
  ::freeaddrinfo(res);
  if (sock.fd < 0) return Error{std::string("connect: ") + std::strerror(err)};

  const std::string request = "GET " + u.path + " HTTP/1.1\r\nHost: " + u.host_header +
                              "\r\nAccept: text/plain\r\nUser-Agent: llmload\r\n"
                              "Connection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += std::size_t(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(sock.fd, POLLOUT, deadline)) return Error{"send: timed out"};
    } else {
      return Error{std::string("send: ") + std::strerror(errno)};
    }
  }

  BodySink sink(max_bytes);
  HttpResponseParser parser(&sink);
  char buf[16 * 1024];
  HttpParseStatus st = HttpParseStatus::kNeedMore;
  while (st == HttpParseStatus::kNeedMore) {
    if (!wait_fd(sock.fd, POLLIN, deadline)) {
      return Error{"no answer within " + std::to_string(timeout_ns / 1'000'000) + " ms"};
    }
    const ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Error{std::string("read: ") + std::strerror(errno)};
    }
    if (n == 0) {
      st = parser.finish();
      if (st == HttpParseStatus::kNeedMore) return Error{"closed without an answer"};
      break;
    }
    std::size_t used = 0;
    st = parser.feed(buf, std::size_t(n), &used);
  }
  if (sink.too_big) return Error{"page over " + std::to_string(max_bytes) + " bytes"};
  if (st != HttpParseStatus::kComplete) return Error{"bad HTTP answer: " + parser.error()};
  if (parser.status() != 200) return Error{"HTTP " + std::to_string(parser.status())};
  return std::move(sink.body);
}

TargetMetricsScraper::TargetMetricsScraper(std::string url, std::vector<std::string> wanted,
                                           int64_t interval_ns)
    : url_(std::move(url)), wanted_(std::move(wanted)), interval_ns_(interval_ns) {
  thread_ = std::thread([this] { run(); });
}

TargetMetricsScraper::~TargetMetricsScraper() {
  finish();
  if (thread_.joinable()) thread_.join();
}

int64_t TargetMetricsScraper::timeout_for(int64_t interval_ns) {
  return std::clamp<int64_t>(interval_ns, 100'000'000, 2'000'000'000);
}

void TargetMetricsScraper::scrape_once() {
  auto page = http_get(url_, timeout_for(interval_ns_), kMaxMetricsPageBytes);
  Expected<PromPage> parsed =
      page ? parse_prom_text(*page) : Expected<PromPage>(Error{page.error()});
  std::lock_guard<std::mutex> lock(mu_);
  if (!parsed) {
    ++pending_.failed;
    pending_.error = parsed.error();
    return;
  }
  // The run's first page (its baseline, read before the load) waits for the first REPORT:
  // counter deltas over the run start from it.
  if (!baseline_taken_ && !pending_.values.empty()) return;
  pending_.values = select_target_series(*parsed, wanted_);
}

void TargetMetricsScraper::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const bool last = finish_;
    lock.unlock();
    scrape_once();
    lock.lock();
    if (last) break;
    // The next scrape one interval on, or at once when the run is over (its final scrape).
    wake_.wait_for(lock, std::chrono::nanoseconds(interval_ns_), [this] { return finish_; });
  }
  finished_.store(true, std::memory_order_release);
}

TargetMetricsScraper::Scrape TargetMetricsScraper::take() {
  std::lock_guard<std::mutex> lock(mu_);
  Scrape out = std::move(pending_);
  pending_ = Scrape{};
  baseline_taken_ = baseline_taken_ || !out.values.empty();
  return out;
}

void TargetMetricsScraper::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finish_ = true;
  }
  wake_.notify_all();
}

}  // namespace llmload::worker
