// The built-in mock LLM server (DESIGN.md "Mock server", docs/mock.md): OpenAI, Ollama and
// Anthropic streaming APIs over HTTP/1.1 (optionally TLS) on libuv, with settable timing,
// faults, a capacity limit and a ground-truth log. `llmload mock` runs it alone; `llmload run
// --target mock` embeds it on an ephemeral loopback port.
//
//   mock::MockOptions opt;            // defaults: 127.0.0.1, ephemeral port, 50 ms TTFT, ...
//   mock::MockServer server(opt);
//   auto started = server.start();    // binds and starts the loop thread(s)
//   if (!started) { ... started.error() ... }
//   std::string url = server.base_url();   // "http://127.0.0.1:PORT"
//   ...
//   server.stop();                    // closes every connection, joins the threads
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.h"
#include "mock/mock_options.h"

namespace llmload::mock {

// Counters over the server's life, summed over loops (a snapshot; safe from any thread).
struct MockStats {
  uint64_t connections = 0;  // accepted TCP connections
  uint64_t requests = 0;     // requests fully read (every path and status)
  uint64_t streams = 0;      // generation requests answered (streamed or not)
  uint64_t tokens = 0;       // tokens sent (content + reasoning)
  uint64_t faults = 0;       // requests that got a fault
  uint64_t refused = 0;      // refused over capacity (429/503)
  int64_t peak_active = 0;   // most requests generating at once
  // Emission lateness: actual minus intended send time of each scheduled write (microseconds).
  double late_p50_us = 0, late_p99_us = 0, late_max_us = 0;
  uint64_t late_samples = 0;
  // True when the p99 lateness exceeded 1 ms: the mock itself was the bottleneck and its
  // timings are not to be trusted as the target's.
  bool saturated = false;
};

class MockServer {
 public:
  explicit MockServer(MockOptions options);
  ~MockServer();  // stops if still running
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  // Binds (every loop on the same port; port 0 picks one), loads or generates the TLS
  // certificate, opens the truth log and starts the loop threads. Returns the bound port.
  // The error names the address, file or setting at fault. Call once.
  Expected<uint16_t> start();
  uint16_t port() const;
  // "http://127.0.0.1:PORT" or "https://..." (IPv6 hosts in brackets).
  std::string base_url() const;
  // The PEM certificate clients should trust when TLS is on (given or generated), else "".
  std::string cert_file() const;
  // Stops accepting, closes every connection, flushes the truth log and joins the threads.
  // Idempotent; safe to call from any thread except a loop thread.
  void stop();
  MockStats stats() const;
  // One line: "served N requests (S streams, T tokens) ... lateness p99 X us, saturated: no".
  std::string stats_line() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmload::mock
