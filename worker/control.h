// The worker's control side: a DEALER that talks to the coordinator (common/wire.h) and drives
// the load engine (worker/worker.h) through a narrow LoadEngine seam.
//
//   waiting   HELLO every second until WELCOME (REJECT: a protocol mismatch ends serve() with
//             an error; anything else is retried)
//             A failed handshake (a CURVE key not on the allow-list: the ZAP refusal seen
//             through a socket monitor) is logged at once, naming the likely cause.
//   attached  PING every 500 ms; answers PING with PONG; waits for RUN
//   preflight on RUN: checks every target on a helper thread (the control loop keeps answering
//             heartbeats), sends the verdict (REPORT seq 0), then starts the engine at the
//             run's start instant
//   running   one REPORT per interval (engine.next_interval), STOP → engine.stop(grace); at the
//             end the final REPORT (final = true) and DONE; then attached again
// A coordinator silent for 3 s (or saying BYE) is gone: the engine is stopped at once (no new
// request, everything in flight cancelled), its data dropped, and the worker goes back to
// waiting — a load generator never runs away. serve() handles run after run until `stop`.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "worker/worker.h"

namespace zmq {
class context_t;
}

namespace llmload::worker {

// What the control side needs of an engine: worker/worker.h's Worker (WorkerEngine below) or a
// fake in tests. Same contracts as the Worker methods of the same names.
class LoadEngine {
 public:
  virtual ~LoadEngine() = default;
  virtual int threads() const = 0;
  virtual PreflightResult preflight(const Scenario& scenario) = 0;
  // Heavy per-run set-up ahead of start (off the control thread, after a passed pre-flight), so
  // start itself is quick. Default: nothing.
  virtual Expected<bool> prepare(
      const std::shared_ptr<const Scenario>& scenario,
      const std::shared_ptr<const std::vector<ResolvedPrompt>>& prompts) {
    (void)scenario, (void)prompts;
    return true;
  }
  virtual Expected<bool> start(RunSpec spec, int64_t start_ns) = 0;
  virtual std::optional<WorkerReport> next_interval(int64_t timeout_ns) = 0;
  virtual void stop(int64_t grace_ns) = 0;
  virtual bool done() const = 0;
  virtual void wait_done() = 0;
  virtual WorkerReport final_snapshot() = 0;
  virtual std::vector<std::string> warnings() const = 0;
};

// The real engine.
class WorkerEngine final : public LoadEngine {
 public:
  explicit WorkerEngine(WorkerOptions options) : worker_(options) {}
  int threads() const override { return worker_.threads(); }
  PreflightResult preflight(const Scenario& s) override { return worker_.preflight(s); }
  Expected<bool> prepare(
      const std::shared_ptr<const Scenario>& scenario,
      const std::shared_ptr<const std::vector<ResolvedPrompt>>& prompts) override {
    return worker_.prepare(scenario, prompts);
  }
  Expected<bool> start(RunSpec spec, int64_t start_ns) override {
    return worker_.start(std::move(spec), start_ns);
  }
  std::optional<WorkerReport> next_interval(int64_t t) override { return worker_.next_interval(t); }
  void stop(int64_t grace_ns) override { worker_.stop(grace_ns); }
  bool done() const override { return worker_.done(); }
  void wait_done() override { worker_.wait_done(); }
  WorkerReport final_snapshot() override { return worker_.final_snapshot(); }
  std::vector<std::string> warnings() const override { return worker_.warnings(); }

 private:
  Worker worker_;
};

struct CurveClientKeys {
  std::string public_key;  // this worker's (Z85)
  std::string secret_key;  // this worker's (Z85)
  std::string server_key;  // the coordinator's public key (Z85)
};

struct ControlOptions {
  std::string connect;                // tcp://host:5557, or inproc://... in embedded mode
  zmq::context_t* context = nullptr;  // shared (embedded, inproc); null: own
  std::string worker_id;              // default: host:pid
  std::string host;                   // default: gethostname()
  std::optional<CurveClientKeys> curve;
  std::size_t max_message_bytes = 1u << 30;  // RUN carries the prompts
  // 0: wire::kProtocolVersion, or (test-only, never for users) the value of the environment
  // variable LLMLOAD_TEST_PROTOCOL_VERSION when set; tests set others to check refusals.
  int64_t protocol = 0;
  std::FILE* log = stderr;
  bool quiet = false;                       // no routine messages (embedded mode)
  const std::atomic<bool>* stop = nullptr;  // serve() returns soon after it becomes true
  bool one_session = false;  // return once a coordinator has said BYE or gone (embedded mode)
};

class WorkerControl {
 public:
  WorkerControl(ControlOptions options, LoadEngine& engine);
  ~WorkerControl();
  // Serves until `stop` (or, with one_session, until its coordinator leaves). Error only for
  // what retrying cannot fix (a protocol version mismatch, a bad endpoint).
  Expected<bool> serve();

  // Runs completed (DONE sent), and runs abandoned because the coordinator went silent.
  int64_t runs_done() const { return runs_done_; }
  int64_t runs_abandoned() const { return runs_abandoned_; }

 private:
  struct Session;
  ControlOptions opt_;
  LoadEngine& engine_;
  std::atomic<int64_t> runs_done_{0};
  std::atomic<int64_t> runs_abandoned_{0};
};

}  // namespace llmload::worker
