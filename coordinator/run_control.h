// One run on a bound ROUTER: the coordinator's state machine.
//
//   kJoining   HELLOs → WELCOME (or REJECT: wrong protocol, run full); until N workers joined
//              or the join timeout (an error naming who is missing)
//   kStarting  clock offsets by PING/PONG; RUN to every worker with its share and the start
//              instant (N-th HELLO + start delay, in each worker's clock); every pre-flight
//              verdict (REPORT seq 0) must be in before the start: a failure → STOP all
//              (exit 2); no verdict yet → that worker is sent STOP and counts as lost, by name
//              (it sends no load; the run goes on, partial)
//   kRunning   REPORTs merged live; PING every 500 ms; a worker silent 3 s is lost (its data
//              kept, the run partial; on_worker_loss: stop → STOP all); a signal → STOP all
//   kDraining  STOP sent: waiting (bounded) for every worker's final REPORT and DONE
//   kFinished  results assembled and written; BYE to every worker
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/scenario.h"
#include "common/wire.h"
#include "common/wire_socket.h"
#include "coordinator/coordinator.h"
#include "coordinator/live_merge.h"
#include "coordinator/result_files.h"
#include "coordinator/worker_registry.h"

namespace llmload::coord {

// A duration for messages: "2.5s".
std::string format_seconds(int64_t ns);

enum class RunPhase : uint8_t { kJoining, kStarting, kRunning, kDraining, kFinished };

// A worker still in its session after a run (CoordinatorOptions::keep_workers).
struct KeptWorker {
  std::string routing_id;
  wire::Hello hello;
};

class RunControl {
 public:
  RunControl(const CoordinatorOptions& opt, zmq::socket_t& router, const Scenario& scenario,
             const std::vector<ResolvedPrompt>& prompts, std::string run_id);
  // Before run(): workers kept from the previous run on this bind join this one without a HELLO.
  void adopt(const std::vector<KeptWorker>& kept);
  RunOutcome run();
  // After run(): the workers not lost and not told BYE, in join order.
  std::vector<KeptWorker> kept_workers();
  int64_t malformed() const { return malformed_; }
  int64_t rejected() const { return rejected_; }

 private:
  // I/O
  void pump(int64_t wait_ms);
  void dispatch(const wire::RawMessage& raw, int64_t now);
  void on_hello(const std::string& rid, const wire::Hello& h, int64_t now);
  void on_report(WorkerEntry& w, wire::Report& r, int64_t now);
  void send(WorkerEntry& w, const wire::Message& m);
  void heartbeats(int64_t now);
  void stop_all(const std::string& reason, int64_t grace_ns);
  // Past the drain deadline: declares lost the workers silent for the heartbeat limit (or all
  // left at max_drain_overrun_ns past it); true when none is left to wait for.
  bool drain_over(int64_t now);
  void log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  // phases
  bool describe_files();  // the shared files RUN names (shared_files()); false: config error
  bool join();
  bool start();
  void run_load();
  void flush_intervals(int64_t now, bool force);
  std::size_t index_of(const WorkerEntry& w) const;
  RunOutcome finish();
  void target_metrics(RunResult& r);

  const CoordinatorOptions& opt_;
  zmq::socket_t& router_;
  const Scenario& scenario_;
  const std::vector<ResolvedPrompt>& prompts_;
  std::string run_id_;
  const Clock& clock_;  // every deadline and timestamp of the run (opt.clock, else monotonic)

  RunPhase phase_ = RunPhase::kJoining;
  WorkerRegistry registry_;
  std::vector<std::string> order_;  // routing ids in join order (index = worker index)
  std::unique_ptr<LiveMerge> merge_;
  std::optional<ResultFiles> files_;

  int64_t start_ns_ = 0;           // coordinator clock
  int64_t measured_start_ns_ = 0;  // start + warmup
  int64_t last_interval_end_ns_ = 0;
  int64_t measured_end_ns_ = 0;  // latest worker-reported window end (coordinator clock), 0 none
  bool drained_ = true;          // the last pump() read every message waiting
  bool drain_overrun_logged_ = false;
  int64_t stop_sent_ns_ = 0;
  int64_t drain_deadline_ns_ = 0;
  int signals_seen_ = 0;
  bool aborted_ = false;
  bool config_error_ = false;
  bool internal_error_ = false;
  bool said_bye_ = false;  // BYE went to every worker (a failed join)
  std::string message_;
  std::vector<std::string> warnings_;
  // Workers that ended their run with an error (DONE with a reason: stopped because this
  // coordinator was silent, could not start, ...): their share of the load was not all sent, so
  // the run is partial as if they were lost (their data is kept). By routing id → reason.
  std::map<std::string, std::string> stopped_early_;
  std::vector<IntervalRow> rows_;
  std::vector<double> busy_;
  int64_t malformed_ = 0;
  int64_t rejected_ = 0;
  int64_t malformed_logged_ = 0;
  std::unique_ptr<class ProgressView> progress_;
  nlohmann::json prompts_json_;
  std::vector<SharedFile> shared_files_;  // RUN's files: each worker checks its copies
};

}  // namespace llmload::coord
