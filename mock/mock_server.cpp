#include "mock/mock_server.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "mock/metrics_page.h"
#include "mock/mock_loop.h"
#include "mock/tls.h"
#include "mock/token_text.h"
#include "mock/truth_log.h"

namespace llmload::mock {

struct MockServer::Impl {
  MockOptions options;
  std::unique_ptr<TokenText> text;
  std::unique_ptr<TruthLog> truth;
  std::shared_ptr<TlsContext> tls;
  std::vector<std::unique_ptr<MockLoop>> loops;
  std::unique_ptr<MetricsPage> metrics;  // GET /metrics, over `loops`
  std::atomic<int64_t> loaded_at{0};     // --cold-start: when the model is loaded (0: not asked)
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

namespace {

int system_backlog() {
  int somaxconn = 4096;
  std::ifstream f("/proc/sys/net/core/somaxconn");
  if (f) f >> somaxconn;
  // listen() clamps to somaxconn; asking for more costs nothing and follows a raised limit.
  return somaxconn > 65535 ? somaxconn : 65535;
}

void raise_fd_limit() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Expected<int> bind_socket(const sockaddr* addr, socklen_t len, bool reuseport, int backlog,
                          const std::string& where) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{"mock: socket for " + where + ": " + std::strerror(errno)};
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int e = errno;
    ::close(fd);
    return Error{"mock: SO_REUSEPORT on " + where + ": " + std::strerror(e)};
  }
  if (::bind(fd, addr, len) != 0 || ::listen(fd, backlog) != 0) {
    int e = errno;
    ::close(fd);
    return Error{"mock: cannot listen on " + where + ": " + std::strerror(e)};
  }
  return fd;
}

}  // namespace

MockServer::MockServer(MockOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

MockServer::~MockServer() {
  stop();
}

Expected<uint16_t> MockServer::start() {
  Impl& m = *impl_;
  if (m.started) return Error{"mock: start() called twice"};
  MockOptions& o = m.options;
  if (o.threads < 1 || o.threads > 256) return Error{"mock: --threads must be from 1 to 256"};
  if (o.tokens_per_chunk < 1) return Error{"mock: --tokens-per-chunk must be >= 1"};
  if (o.max_streams < 0) return Error{"mock: --max-streams must be >= 0"};
  if (o.faults.rate < 0 || o.faults.rate > 1)
    return Error{"mock: --fault-rate must be from 0 to 1"};
  if (o.raise_fd_limit) raise_fd_limit();
  int backlog = o.backlog > 0 ? o.backlog : system_backlog();

  sockaddr_storage ss{};
  std::string where = o.host + ":" + std::to_string(o.port);
  if (uv_ip4_addr(o.host.c_str(), o.port, reinterpret_cast<sockaddr_in*>(&ss)) != 0 &&
      uv_ip6_addr(o.host.c_str(), o.port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0)
    return Error{"mock: --host '" + o.host + "' is not an IPv4 or IPv6 address"};
  socklen_t len = ss.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);

  if (o.tls) {
    std::string out = o.cert_out_file;
    if (out.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      out = std::string(tmp && *tmp ? tmp : "/tmp") + "/llmload-mock-" + std::to_string(getpid()) +
            "-cert.pem";
    }
    auto ctx = TlsContext::create(o.cert_file, o.key_file, out);
    if (!ctx) return Error{ctx.error()};
    m.tls = *ctx;
  }
  if (!o.truth_file.empty()) {
    m.truth = std::make_unique<TruthLog>();
    auto opened = m.truth->open(o.truth_file);
    if (!opened) return Error{"mock: " + opened.error()};
  }
  m.text = std::make_unique<TokenText>(o.seed);

  std::vector<int> fds;
  for (int i = 0; i < o.threads; ++i) {
    auto fd = bind_socket(reinterpret_cast<sockaddr*>(&ss), len, o.threads > 1, backlog, where);
    if (!fd) {
      for (int f : fds) ::close(f);
      return Error{fd.error()};
    }
    fds.push_back(*fd);
    if (i == 0) {
      sockaddr_storage bound{};
      socklen_t bl = sizeof bound;
      getsockname(*fd, reinterpret_cast<sockaddr*>(&bound), &bl);
      m.port =
          ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      // The other loops join the same port.
      if (ss.ss_family == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(m.port);
      else
        reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(m.port);
      where = o.host + ":" + std::to_string(m.port);
    }
  }
  for (int i = 0; i < o.threads; ++i) {
    int limit = 0;
    if (o.max_streams > 0)
      limit = std::max(1, o.max_streams / o.threads + (i < o.max_streams % o.threads ? 1 : 0));
    auto loop = std::make_unique<MockLoop>(i, m.options, *m.text, m.truth.get(),
                                           m.tls ? m.tls->ctx() : nullptr, limit);
    auto ok = loop->init(fds[size_t(i)], backlog);
    if (!ok) {
      for (size_t j = size_t(i) + 1; j < fds.size(); ++j) ::close(fds[j]);
      m.loops.clear();
      return Error{"mock: " + where + ": " + ok.error()};
    }
    m.loops.push_back(std::move(loop));
  }
  auto page = MetricsPage::create(m.loops, o.metrics_extra_file);
  if (!page) {
    m.loops.clear();
    return Error{"mock: " + page.error()};
  }
  m.metrics = std::move(page.value());
  for (auto& l : m.loops) {
    l->set_metrics_page(m.metrics.get());
    l->set_loaded_at(&m.loaded_at);
    l->start();
  }
  m.started = true;
  return m.port;
}

uint16_t MockServer::port() const {
  return impl_->port;
}

std::string MockServer::base_url() const {
  const MockOptions& o = impl_->options;
  std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  return std::string(o.tls ? "https://" : "http://") + host + ":" + std::to_string(impl_->port);
}

std::string MockServer::cert_file() const {
  return impl_->tls ? impl_->tls->cert_path() : "";
}

void MockServer::stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  for (auto& l : m.loops) l->stop_and_join();
  if (m.truth) m.truth->close();
}

MockStats MockServer::stats() const {
  MockStats s;
  std::vector<uint64_t> buckets(Lateness::kBuckets, 0);
  for (const auto& l : impl_->loops) {
    LoopCounters& c = l->counters();
    s.connections += c.connections.load(std::memory_order_relaxed);
    s.requests += c.requests.load(std::memory_order_relaxed);
    s.streams += c.streams.load(std::memory_order_relaxed);
    s.tokens += c.tokens.load(std::memory_order_relaxed);
    s.faults += c.faults.load(std::memory_order_relaxed);
    s.refused += c.refused.load(std::memory_order_relaxed);
    s.peak_active += l->capacity().peak_active();
    const Lateness& lat = l->lateness();
    s.late_samples += lat.count();
    s.late_max_us = std::max(s.late_max_us, double(lat.max_us()));
    for (int b = 0; b < Lateness::kBuckets; ++b) buckets[size_t(b)] += lat.bucket(b);
  }
  auto pct = [&](double q) {
    if (!s.late_samples) return 0.0;
    uint64_t rank = uint64_t(q * double(s.late_samples) + 0.5);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < Lateness::kBuckets; ++b) {
      seen += buckets[size_t(b)];
      if (seen >= rank) return std::min(Lateness::upper_us(b), s.late_max_us);
    }
    return s.late_max_us;
  };
  s.late_p50_us = pct(0.50);
  s.late_p99_us = pct(0.99);
  s.saturated = s.late_p99_us > 1000.0;
  return s;
}

std::string MockServer::stats_line() const {
  MockStats s = stats();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "llmload mock: served %llu requests (%llu generations, %llu tokens, %llu faults, "
                "%llu refused) on %llu connections; peak %lld generating; emission lateness p50 "
                "%.0f us, p99 %.0f us, max %.0f us over %llu sends; saturated: %s",
                (unsigned long long)s.requests, (unsigned long long)s.streams,
                (unsigned long long)s.tokens, (unsigned long long)s.faults,
                (unsigned long long)s.refused, (unsigned long long)s.connections,
                (long long)s.peak_active, s.late_p50_us, s.late_p99_us, s.late_max_us,
                (unsigned long long)s.late_samples, s.saturated ? "yes" : "no");
  return buf;
}

}  // namespace llmload::mock
