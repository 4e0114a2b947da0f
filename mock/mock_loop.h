// One event loop of the mock server, on its own thread: a listening socket (shared with the
// other loops through SO_REUSEPORT), its connections, and one timer (a timerfd polled by libuv,
// nanosecond deadlines) over a DueHeap of every stream it drives. Each wake-up serves every
// stream due within kBatchNs, so streams due together cost one wake-up, not one each.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/expected.h"
#include "mock/capacity.h"
#include "mock/due_heap.h"
#include "mock/lateness.h"
#include "mock/mock_options.h"
#include "mock/out_buffer.h"
#include "mock/token_text.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace llmload::mock {

class Connection;
class StreamJob;
class TruthLog;
class MetricsPage;

// Counters of one loop, written by its thread only (relaxed stores), read from anywhere.
struct LoopCounters {
  std::atomic<uint64_t> connections{0}, requests{0}, streams{0}, tokens{0}, faults{0}, refused{0};
  std::atomic<uint64_t> prompt_tokens{0};           // prompt tokens of generation requests
  std::atomic<int64_t> processing{0}, deferred{0};  // the capacity gate's active and queued
  static void bump(std::atomic<uint64_t>& a, uint64_t by = 1) {
    a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

class MockLoop {
 public:
  static constexpr int64_t kBatchNs = 50'000;    // streams due this close share a wake-up
  static constexpr int kMaxEmitsPerWake = 4096;  // then I/O gets its turn

  MockLoop(int index, const MockOptions& options, const TokenText& text, TruthLog* truth,
           SSL_CTX* ssl_ctx, int stream_limit);
  ~MockLoop();
  MockLoop(const MockLoop&) = delete;
  MockLoop& operator=(const MockLoop&) = delete;

  // Takes ownership of a bound, listening socket. Call before start().
  Expected<bool> init(int listen_fd, int backlog);
  void start();          // runs the loop on a new thread
  void stop_and_join();  // from another thread: closes everything, joins

  // --- for connections and streams (loop thread only) ---
  int index() const { return index_; }
  uv_loop_t* uv() { return &loop_; }
  const MockOptions& options() const { return options_; }
  const TokenText& text() const { return text_; }
  TruthLog* truth() { return truth_; }
  SSL_CTX* ssl_ctx() { return ssl_ctx_; }
  CapacityGate& capacity() { return capacity_; }
  Rng& rng() { return rng_; }
  LoopCounters& counters() { return counters_; }
  Lateness& lateness() { return lateness_; }
  OutBuffer& out() { return out_; }          // the response being formatted
  OutBuffer& scratch() { return scratch_; }  // one event inside it
  OutBuffer& tls_plain() { return tls_plain_; }
  OutBuffer& tls_cipher() { return tls_cipher_; }
  char* read_buffer() { return read_buf_.get(); }
  size_t read_buffer_size() const { return kReadBuf; }
  uint64_t next_request_seq() { return ++request_seq_; }
  uint64_t next_connection_seq() { return ++connection_seq_; }
  // Copies the capacity gate's gauges into the counters (for /metrics, read from any loop).
  void publish_capacity() {
    counters_.processing.store(capacity_.active(), std::memory_order_relaxed);
    counters_.deferred.store(capacity_.queued(), std::memory_order_relaxed);
  }
  // The server's /metrics page (set before start(); null: none).
  const MetricsPage* metrics_page() const { return metrics_page_; }
  void set_metrics_page(const MetricsPage* p) { metrics_page_ = p; }
  // --cold-start: the instant the model is loaded, shared by every loop (0 until the first
  // generation request sets it).
  std::atomic<int64_t>* loaded_at() const { return loaded_at_; }
  void set_loaded_at(std::atomic<int64_t>* p) { loaded_at_ = p; }

  void schedule(StreamJob* job, int64_t due_ns);
  void unschedule(StreamJob* job);
  void add(Connection* c);
  void remove(Connection* c);
  bool stopping() const { return stopping_; }

 private:
  static constexpr size_t kReadBuf = 64 * 1024;
  static void on_connection(uv_stream_t* server, int status);
  static void on_timer(uv_poll_t* handle, int status, int events);
  static void on_stop(uv_async_t* handle);
  void fire();
  void arm();
  void close_all();

  int index_;
  const MockOptions& options_;
  const TokenText& text_;
  TruthLog* truth_;
  SSL_CTX* ssl_ctx_;
  uv_loop_t loop_;
  uv_tcp_t listener_;
  uv_poll_t timer_poll_;
  uv_async_t stop_async_;
  int timer_fd_ = -1;
  int64_t armed_ns_ = -1;
  bool initialized_ = false;
  bool stopping_ = false;
  std::thread thread_;
  DueHeap heap_;
  CapacityGate capacity_;
  Rng rng_;
  LoopCounters counters_;
  Lateness lateness_;
  OutBuffer out_{64 * 1024}, scratch_{16 * 1024}, tls_plain_{64 * 1024}, tls_cipher_{64 * 1024};
  std::unique_ptr<char[]> read_buf_;
  uint64_t request_seq_ = 0;
  uint64_t connection_seq_ = 0;
  const MetricsPage* metrics_page_ = nullptr;
  std::atomic<int64_t>* loaded_at_ = nullptr;
  Connection* conns_ = nullptr;  // intrusive list of open connections
};

}  // namespace llmload::mock
