// The coordinator: binds a ROUTER, waits for its workers, starts them at one instant, merges
// their REPORTs live and writes the run's results (DESIGN.md "Wire protocol", "How a run starts
// and ends", "Results"). `llmload coordinator` runs one over tcp://; `llmload run` runs one over
// inproc:// with workers in the same process: the same code and the same messages.
//
//   CoordinatorOptions opt; opt.bind = "tcp://127.0.0.1:*"; opt.workers = 3; ...
//   Coordinator c(opt);
//   auto endpoint = c.bind();             // security checks; the real endpoint (port 0 → *)
//   RunOutcome out = c.run(scenario, prompts, run_id);   // blocks until the run is over
//   return out.exit_code;
//
// Security: without CURVE keys only loopback (tcp://127.0.0.1, [::1], localhost), ipc:// and
// inproc:// binds are allowed; anything else needs allow_insecure and is warned about loudly.
// With keys the ROUTER is a CURVE server whose ZAP handler admits only allow-listed worker keys
// and fails closed. Every incoming message is size-limited (ZMQ_MAXMSGSIZE) and validated;
// garbage is counted and dropped, never fatal.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/expected.h"
#include "common/prompts.h"
#include "common/results.h"
#include "common/scenario.h"
#include "coordinator/curve_keys.h"
#include "coordinator/progress_view.h"

namespace zmq {
class context_t;
}

namespace llmload::coord {

// What the coordinator knows after each merged interval: the cumulative per-group stats and the
// run's health (for live metrics and abort-on-fail assertions).
struct LiveView {
  const std::map<std::string, GroupStats>& groups;  // cumulative, by group key
  const GroupStats& total;                          // cumulative, all groups
  double elapsed_s = 0;                             // since the measured window began
  int64_t in_flight = 0;
  int workers_alive = 0;
  double loop_lag_ms = 0;  // worst loop lag of the interval
};

struct CoordinatorOptions {
  std::string bind = "tcp://127.0.0.1:5557";  // "tcp://127.0.0.1:*": an ephemeral port
  zmq::context_t* context = nullptr;  // shared context (embedded mode, inproc://); null: own
  int workers = 1;                    // wait for this many workers
  int64_t join_timeout_ns = 120'000'000'000;  // how long to wait for them
  // After RUN, the coordinator waits this long at most for every worker's pre-flight verdict
  // (--preflight-timeout); a worker not in by then is never started (STOP, counted lost).
  int64_t preflight_timeout_ns = 60'000'000'000;
  // GO's start instant is this far after the last verdict: time for GO to reach every worker
  // and for each to open its connections ahead of load.
  int64_t start_lead_ns = 1'000'000'000;
  bool allow_insecure = false;                // a non-loopback bind without CURVE
  std::optional<CurveKeyPair> curve;          // the coordinator's own keys: CURVE server
  std::vector<std::string> allowed_keys;      // worker public keys (Z85) the ZAP handler admits
  std::size_t max_message_bytes = 64u << 20;  // ZMQ_MAXMSGSIZE for incoming messages
  // The RUN message carries at most this many prompts and bytes of prompt text (the first of
  // the sampled list); workers cycle through them. Defaults: common/prompts.h.
  std::size_t max_run_prompts = kRunPromptsMax;
  std::size_t max_run_prompt_bytes = kRunPromptBytesMax;
  std::string out_dir;  // results directory (created)
  bool requests_csv = false;
  std::string requests_jsonl;  // --requests-jsonl FILE: the per-call log ("" for none)
  ProgressMode progress = ProgressMode::kPlain;
  std::FILE* progress_out = stdout;
  std::FILE* log = stderr;                      // join/loss/warning messages
  std::string command;                          // the command line, secrets redacted
  const std::atomic<int>* signals = nullptr;    // count of SIGINT/SIGTERM received (cli)
  int64_t max_abort_grace_ns = 10'000'000'000;  // drain bound after a signal
  // The drain after STOP (DESIGN.md "How a run starts and ends"): every worker has the STOP's
  // grace plus drain_slack_ns to send its final REPORT and DONE. Past that deadline a worker the
  // coordinator still hears from (any message, a heartbeat included) is waited for; only one
  // silent for the heartbeat limit (3 s) is declared lost, judged with every waiting message
  // read. max_drain_overrun_ns caps that wait past the deadline (and the planned end's overrun
  // check while the queue never reads empty): whoever has not sent DONE by then is lost.
  int64_t drain_slack_ns = 5'000'000'000;
  int64_t max_drain_overrun_ns = 120'000'000'000;
  // Fills result.assertions from the merged result (the gates); null: no assertions evaluated.
  std::function<void(RunResult&)> evaluate_assertions;
  // Called after every merged interval. A non-empty return stops the run as aborted (exit 4)
  // with that reason: an abort_on_fail assertion that is certain to fail.
  std::function<std::string(const LiveView&)> on_interval;
  // The clock every join, pre-flight, heartbeat and drain deadline and the start instant are
  // read from; null: CLOCK_MONOTONIC. Tests drive a run through its deadlines with a FakeClock
  // (workers must then be fakes too: a real worker's start instant is on its own clock).
  const Clock* clock = nullptr;
  // Several runs on one bind (`llmload sweep --bind`): at a run's end the workers still attached
  // are kept in their session (no BYE) and the next run() starts with them, waiting only for any
  // missing; they are told BYE when the Coordinator is destroyed. false: BYE after every run.
  bool keep_workers = false;
  // Called once the ROUTER is bound, with the real endpoint.
  std::function<void(const std::string&)> on_bound;
};

struct RunOutcome {
  int exit_code = 1;
  RunResult result;
  std::string message;           // why the run failed or stopped early ("" when completed)
  bool results_written = false;  // summary.json/csv are in out_dir
};

class Coordinator {
 public:
  explicit Coordinator(CoordinatorOptions options);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Checks the bind against the security rules, binds, starts the ZAP handler (CURVE).
  // Returns the endpoint actually bound (ZMQ_LAST_ENDPOINT). Errors: exit code 2 material.
  Expected<std::string> bind();

  // One run, start to end. `scenario` is resolved (overrides applied, secrets expanded);
  // `prompts` are the ones the run needs in the sampled order; the first that fit
  // max_run_prompts / max_run_prompt_bytes are shipped to every worker, which cycle through them.
  RunOutcome run(const Scenario& scenario, const std::vector<ResolvedPrompt>& prompts,
                 const std::string& run_id);

  // The options, for a caller that runs several runs on one bind (`llmload sweep --bind`): between
  // runs it may change the per-run fields (workers, out_dir, requests_csv, requests_jsonl,
  // progress, command, evaluate_assertions, on_interval); never during run().
  CoordinatorOptions& options();

  // Counters of what was refused (tests and logs).
  int64_t malformed_messages() const;
  int64_t rejected_hellos() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for endpoints only this host can reach: tcp on 127.0.0.0/8, [::1] or localhost,
// ipc://, inproc://.
bool is_local_endpoint(const std::string& endpoint);

// The exit code for how a run ended (DESIGN.md "Exit codes": 1, 2, 4, 5, 3 priority).
struct RunEnding {
  bool internal_error = false;
  bool config_error = false;  // includes a failed pre-flight (no load sent)
  bool aborted = false;
  bool workers_lost = false;
  int64_t ok = 0;
  bool assertion_failed = false;
};
int exit_code_for(const RunEnding& e);
RunStatus status_for_exit(int exit_code);

}  // namespace llmload::coord
