// The ZAP (ZeroMQ Authentication Protocol, RFC 27) handler of a CURVE coordinator: a thread
// answering the library's authentication requests on inproc://zeromq.zap.01 of the
// coordinator's context. It FAILS CLOSED: only the CURVE mechanism with a client public key in
// the allow-list is accepted (200); everything else, including a malformed request, is refused
// (400). The coordinator also sets ZMQ_ZAP_ENFORCE_DOMAIN, so a missing handler refuses too.
#pragma once

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/expected.h"

namespace llmload::coord {

class ZapHandler {
 public:
  // `allowed`: Z85 public keys of the workers let in.
  ZapHandler(zmq::context_t& ctx, std::vector<std::string> allowed);
  ~ZapHandler();  // stops and joins
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Binds inproc://zeromq.zap.01 and starts the thread. Error if another handler holds it.
  Expected<bool> start();
  void stop();

  int64_t accepted() const { return accepted_.load(); }
  int64_t refused() const { return refused_.load(); }

  // The decision for one request (the frames as received): exposed for tests.
  // Returns the status code ("200" or "400") and fills user_id (the worker key) on success.
  std::string decide(const std::vector<std::string>& frames, std::string& user_id,
                     std::string& status_text) const;

 private:
  void run();
  zmq::context_t& ctx_;
  std::set<std::string> allowed_;
  zmq::socket_t sock_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> refused_{0};
};

}  // namespace llmload::coord
