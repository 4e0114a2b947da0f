// Worker: the load engine one process runs. It owns N event loops (one thread + uv_loop each),
// runs a share of a run's load on them, and hands back what they measured every interval.
// The coordinator's worker-side glue (a remote `llmload worker`, or `llmload run` in-process)
// drives it through this API alone.
//
// Threads. Every method is called from ONE control thread (the thread that owns the Worker),
// except stop(), which may also be called from any other thread (a signal watcher, a heartbeat
// timer). The loops never call back into the control thread: the control thread pulls.
//
// One run at a time: preflight → start → next_interval()* → (stop) → wait_done → final_snapshot.
// After wait_done() the Worker is ready for the next start() (a remote worker serves run after
// run).
//
// Load split. The coordinator split the run's load once, per event loop (common/load_split.h):
// this worker's LoadShare holds one LoopShare per loop it runs (concurrency or rate, stage
// levels, request budget, in-flight cap, first-arrival offset, seed) and the shape they share.
// start() maps each LoopShare to its loop's scheduler (scheduler_config) and splits nothing; a
// share with a different number of loops than this worker runs is refused.
// A single-worker run passes split_load(scenario.load, {threads}, scenario.seed)[0].
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/group_stats.h"
#include "common/load_split.h"
#include "common/results.h"
#include "common/results_csv.h"
#include "common/scenario.h"

namespace llmload::worker {

// A test seam, never set outside tests: every loop's thread sleeps, once, from `after_ns` past
// the load's start instant until `after_ns + stall_ns` past it, so tokens arrive while the loop
// cannot read them (measured times must not depend on when the loop gets to a read).
struct TestStall {
  int64_t after_ns = 0;
  int64_t stall_ns = 0;  // 0: no stall
};

struct WorkerOptions {
  int threads = 0;  // event loops; 0 → one per core (std::thread::hardware_concurrency)
  // Stamp reads with the kernel's receive time (--timestamps kernel); false: a clock reading
  // after the loop woke (--timestamps clock). ConnectionConfig::kernel_timestamps.
  bool kernel_timestamps = true;
  TestStall test_stall{};
};

struct RunSpec {
  std::string run_id;
  std::string worker_id;  // written to requests.csv's `worker` column
  // The resolved scenario (overrides applied, secrets already expanded): targets, API, model,
  // load shape, limits (duration / requests), warmup, grace, timeouts, interval, SLOs, seed.
  // Target URLs are real (a "mock" target was already replaced by the caller that started the
  // mock: worker/ never includes mock/).
  std::shared_ptr<const Scenario> scenario;
  // The run's prompt list (the same on every worker); requests.csv's `prompt` is an index here.
  // Each loop walks the list in order from its own offset, wrapping around; a prompt with
  // `turns` is replayed turn by turn by one virtual user (rate mode: one session), on one
  // connection with prompts.sticky (worker/conversation.h).
  std::shared_ptr<const std::vector<ResolvedPrompt>> prompts;
  LoadShare share;
  // Keep one RequestRow per measured request (requests.csv), delivered with each interval.
  bool record_requests = false;
};

// What the loops measured in one reporting interval, merged over this worker's loops.
struct WorkerReport {
  int64_t sequence = 0;              // 0, 1, 2, ... per run
  IntervalSnapshot snapshot;         // groups seen in the interval, in-flight, loop lag and busy
  std::vector<RequestRow> requests;  // measured requests that finished in it (if asked)
  bool last = false;                 // the run's final report (returned by final_snapshot)
};

// Outcome of the pre-flight (DESIGN.md "How a run starts and ends").
struct PreflightResult {
  bool ok = true;     // false: no load may be sent; the run stops with exit code 2
  std::string error;  // when !ok: names the target at fault ("http://h:8080: 401 Unauthorized")
  std::vector<std::string> warnings;  // e.g. "model 'x' not listed by http://h:8080"
};

class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();  // stops a running run with grace 0 and joins the loops
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int threads() const;

  // Checks every target of `scenario` without generating tokens. Blocks (bounded by the
  // scenario's connect timeout per target). Never sends load.
  PreflightResult preflight(const Scenario& scenario);

  // Starts the loops; load begins at `start_ns` (this process's CLOCK_MONOTONIC, mono_now_ns();
  // the coordinator has already converted its own clock). Connections are opened before the
  // start instant where the load shape allows. Raises RLIMIT_NOFILE to the hard limit; when the
  // limit cannot hold the concurrency asked for, a warning says so (see warnings()).
  // Error (nothing started) on an invalid spec: no scenario, bad share, a run already going.
  Expected<bool> start(RunSpec spec, int64_t start_ns);
  // Builds the run plan (every prompt's request bytes: the costly part of a start) ahead of
  // start(), from any thread while no run is going; start() with the same scenario and prompts
  // then only starts the loops. Error on an invalid scenario.
  Expected<bool> prepare(const std::shared_ptr<const Scenario>& scenario,
                         const std::shared_ptr<const std::vector<ResolvedPrompt>>& prompts);

  // Blocks up to `timeout_ns` for the next interval report (intervals every scenario
  // `interval`, default 1 s, aligned to the start instant; warmup intervals carry no groups).
  // nullopt on timeout or once the run is done (then call final_snapshot()).
  std::optional<WorkerReport> next_interval(int64_t timeout_ns);

  // Ends the run: no new request starts; requests in flight finish within `grace_ns` and count
  // normally; those still going then are `cancelled`. stop(0) cancels everything in flight at
  // once (abort, lost coordinator). Thread-safe, idempotent; returns at once. A run also ends
  // by itself when its limits are reached (then the scenario's grace applies).
  void stop(int64_t grace_ns);

  // True once every loop has finished (limits or stop, grace over, connections closed).
  bool done() const;
  // Blocks until done(), then joins the loop threads.
  void wait_done();

  // After wait_done(): everything not yet returned by next_interval(), as one report with
  // last = true. The reports of a run together hold each measured request exactly once.
  WorkerReport final_snapshot();

  // Warnings of the current / last run (fd limit, unlisted model, ...), each once.
  std::vector<std::string> warnings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmload::worker
