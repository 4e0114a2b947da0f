// CPU of the client's read path per socket read: one loop thread sends one byte to a loopback
// echo peer (its own thread) and reads the 64-byte answer, one read per round. CPU time is the
// loop thread's (Google Benchmark's default), so the peer's work is not counted; each round is
// the same write and the same read for every variant, which differ only in how the read is done:
//   LibuvStream   the path TcpTransport had before it owned its descriptor: uv_tcp_t,
//                 uv_read_start and one CLOCK_MONOTONIC read per read, uv_try_write
//   PollKernel    TcpTransport: uv_poll_t, recvmsg with the SO_TIMESTAMPNS control message
//                 converted to the monotonic timeline, writev
//   PollClock     TcpTransport with kernel stamps off (recvmsg, a clock read per read)
// The `steal` counter is the share of all CPU time /proc/stat counted as steal during the run.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "worker/tcp_transport.h"

using namespace llmload::worker;  // NOLINT: the benchmarks name the types they measure

namespace llmload {
namespace {

constexpr size_t kAnswer = 64;

// Steal and total jiffies of all CPUs so far.
std::pair<double, double> steal_and_total() {
  std::ifstream in("/proc/stat");
  std::string line, cpu;
  std::getline(in, line);
  std::istringstream f(line);
  f >> cpu;
  double v, total = 0, steal = 0;
  for (int i = 0; f >> v; ++i) {
    total += v;
    if (i == 7) steal = v;
  }
  return {steal, total};
}

// A loopback peer answering each byte it reads with kAnswer bytes, until the client closes.
class EchoPeer {
 public:
  EchoPeer() {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 1);
    socklen_t len = sizeof addr_;
    getsockname(listen_, reinterpret_cast<sockaddr*>(&addr_), &len);
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoPeer() {
    thread_.join();
    ::close(listen_);
  }
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&addr_); }

 private:
  void serve() {
    pollfd p{listen_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return;
    const int fd = ::accept(listen_, nullptr, nullptr);
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    const std::string answer(kAnswer, 'a');
    char c;
    while (::read(fd, &c, 1) == 1) ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  int listen_;
  sockaddr_in addr_{};
  std::thread thread_;
};

// The old read path, as TcpTransport did it over a uv_tcp_t.
class LibuvStreamClient {
 public:
  explicit LibuvStreamClient(uv_loop_t* loop) {
    uv_tcp_init(loop, &tcp_);
    tcp_.data = this;
    connect_.data = this;
  }
  void connect(const sockaddr* a) {
    uv_tcp_connect(&connect_, &tcp_, a, [](uv_connect_t* r, int status) {
      auto* self = static_cast<LibuvStreamClient*>(r->data);
      if (status < 0) return;
      uv_tcp_nodelay(&self->tcp_, 1);
      uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), on_alloc, on_read);
      self->connected = true;
    });
  }
  void send() {
    static char one[] = "g";
    uv_buf_t b = uv_buf_init(one, 1);
    uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1);
  }
  void close() { uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), nullptr); }
  bool connected = false;
  size_t received = 0;
  int64_t last_ns = 0;

 private:
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* b) {
    static thread_local char buf[TcpTransport::kReadBufferSize];
    *b = uv_buf_init(buf, sizeof buf);
  }
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
    auto* self = static_cast<LibuvStreamClient*>(s->data);
    if (n <= 0) return;
    self->last_ns = mono_now_ns();
    self->received += size_t(n);
  }
  uv_tcp_t tcp_;
  uv_connect_t connect_;
};

class TransportClient final : public TransportHandler {
 public:
  TransportClient(uv_loop_t* loop, bool kernel) : t_(loop, this, kernel) {}
  void connect(const sockaddr* a) { t_.connect(a); }
  void send() {
    static char one[] = "g";
    uv_buf_t b = uv_buf_init(one, 1);
    t_.write(&b, 1);
  }
  void close() { t_.close(); }
  bool connected = false;
  size_t received = 0;
  int64_t last_ns = 0;
  size_t kernel_reads = 0;

 private:
  void on_transport_connected(int64_t, int64_t) override { connected = true; }
  void on_transport_data(ReadStamp s, const char*, size_t len) override {
    last_ns = s.ns;
    kernel_reads += s.kernel;
    received += len;
  }
  void on_transport_eof(int64_t, bool) override {}
  void on_transport_error(int64_t, ErrorKind, bool, std::string_view) override {}
  void on_transport_closed() override {}
  void on_transport_written(int64_t) override {}
  TcpTransport t_;
};

template <class Client>
void rounds(benchmark::State& state, Client& c, uv_loop_t* loop) {
  const auto [steal0, total0] = steal_and_total();
  while (!c.connected) uv_run(loop, UV_RUN_ONCE);
  for (auto _ : state) {
    const size_t want = c.received + kAnswer;
    c.send();
    while (c.received < want) uv_run(loop, UV_RUN_ONCE);
  }
  benchmark::DoNotOptimize(c.last_ns);
  const auto [steal1, total1] = steal_and_total();
  state.counters["steal"] = total1 > total0 ? (steal1 - steal0) / (total1 - total0) : 0;
  c.close();
  uv_run(loop, UV_RUN_DEFAULT);
}

void BM_LibuvStream(benchmark::State& state) {
  EchoPeer peer;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    LibuvStreamClient c(&loop);
    c.connect(peer.addr());
    rounds(state, c, &loop);
  }
  uv_loop_close(&loop);
}

void BM_Poll(benchmark::State& state, bool kernel) {
  EchoPeer peer;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    TransportClient c(&loop, kernel);
    c.connect(peer.addr());
    rounds(state, c, &loop);
    if (kernel && c.kernel_reads == 0) state.SkipWithError("no kernel stamps on this system");
  }
  uv_loop_close(&loop);
}

BENCHMARK(BM_LibuvStream)->Iterations(100000);
BENCHMARK_CAPTURE(BM_Poll, Kernel, true)->Iterations(100000);
BENCHMARK_CAPTURE(BM_Poll, Clock, false)->Iterations(100000);

}  // namespace
}  // namespace llmload
