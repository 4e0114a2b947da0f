// A minimal HTTP server for Prometheus scrapes: GET /metrics answers the latest exposition,
// anything else 404. One thread, blocking sockets with poll(); the coordinator replaces the
// text once per interval (never on the measuring path).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "common/expected.h"

namespace llmload::analysis {

class MetricsServer {
 public:
  MetricsServer() = default;
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // addr: "HOST:PORT" or ":PORT" (loopback then); port 0 picks a free one. Errors name addr.
  Expected<int> start(const std::string& addr);
  int port() const { return port_; }
  void set_text(std::string text);
  std::string text() const;  // what GET /metrics answers now
  void stop();

 private:
  void serve();
  mutable std::mutex mu_;
  std::string text_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace llmload::analysis
