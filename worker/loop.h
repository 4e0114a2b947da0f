// Loop: one thread running one uv_loop that owns its connections (one ConnectionPool per
// target), its Scheduler, its Recorder and its Request slots. Nothing it does on the per-token
// path takes a lock or allocates; it talks to the control thread only through the Recorder's
// lock-free hand-off, a uv_async for stop(), and an atomic done flag.
//
// Self-check: a 10 ms probe timer measures timer lag (actual wake − scheduled wake, µs): every
// sample of the measured window into the interval's ClientTiming, the worst into lag_us_max;
// libuv's idle-time metric gives the busy fraction; both go with every interval and into the
// run's ClientHealth (a saturated client reports its own delay as the server's).
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/distribution.h"
#include "common/hdr_histogram.h"
#include "worker/conversation.h"
#include "worker/recorder.h"
#include "worker/request.h"
#include "worker/run_plan.h"
#include "worker/scheduler.h"

namespace llmload::worker {

class DnsCache;

struct LoopConfig {
  int index = 0;  // within the worker
  SchedulerConfig sched;
  bool open_loop = false;
  int64_t interval_ns = 1'000'000'000;
  std::string worker_id;
  bool keep_rows = false;
  uint64_t seed = 1;          // group choice
  int64_t prompt_offset = 0;  // first conversation this loop sends
  int run_loop = 0;           // the loop's position in the run (LoopShare::index)
  int run_loops = 1;          // event loops in the run (LoadShare::loop_count)
  uint64_t run_seed = 1;      // the scenario's seed: request keys (common/synthetic_text.h)
  // A dataset read on the worker (RunPlan::dataset): the run-wide numbers of this loop's
  // requests are its budget's block first (LoopShare::first_request, requests), then, past the
  // run's budget (run_requests), the run's loops interleaved (Loop::item_for).
  int64_t first_request = 0;
  int64_t requests = 0;      // the loop's budget (0: no request limit)
  int64_t run_requests = 0;  // the run's budget (0: no request limit)
  size_t max_connects_in_flight = 64;
  bool kernel_timestamps = true;  // PoolOptions::kernel_timestamps
  // Test seam (WorkerOptions::test_stall): the thread sleeps from stall_from_ns (when its timer
  // fires, never earlier) until stall_until_ns; both 0: never.
  int64_t stall_from_ns = 0;
  int64_t stall_until_ns = 0;
};

class Loop final : private SchedulerHost, private RequestOwner {
 public:
  Loop(LoopConfig config, std::shared_ptr<const RunPlan> plan);
  ~Loop() override;
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  void start();  // starts the thread
  // Any thread: no new request; in-flight ones get grace_ns, then are cancelled.
  void stop(int64_t grace_ns);
  void join();
  bool done() const { return done_.load(std::memory_order_acquire); }

  Recorder& recorder() { return recorder_; }
  // After join(): a failure that stopped the loop early ("" if none).
  const std::string& error() const { return error_; }

 private:
  void run();
  void do_poll();
  void want_poll();
  void arm_scheduler(int64_t wake);
  void on_interval();
  void swap_interval(int64_t end_ns, bool last);
  void shutdown();
  void close_handles();

  // SchedulerHost
  void start_request(const StartTicket& ticket) override;
  void on_dropped(const StartTicket& ticket) override;
  void cancel_in_flight() override;
  // RequestOwner
  void on_request_done(Request& request) override;

  Request* take_slot();
  void link(Request* r);
  void unlink(Request* r);

  LoopConfig config_;
  std::shared_ptr<const RunPlan> plan_;
  MonotonicClock clock_;
  Recorder recorder_;

  uv_loop_t loop_{};
  uv_timer_t sched_timer_{};
  uv_timer_t interval_timer_{};
  uv_timer_t lag_timer_{};
  uv_timer_t stall_timer_{};
  uv_check_t check_{};
  uv_idle_t idle_{};
  uv_async_t async_{};
  int open_handles_ = 0;

  std::unique_ptr<DnsCache> dns_;
  std::vector<std::unique_ptr<ConnectionPool>> pools_;
  RequestContext ctx_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<std::unique_ptr<Request>> slots_;
  std::vector<Request*> free_;
  Request* active_head_ = nullptr;
  Rng rng_;

  // Conversations: the next turn of ticket.user's conversation, or a new one.
  Conversation* conversation_of(int32_t user);
  void start_turn(Conversation& c, int32_t user, StartTicket ticket, int64_t cancel_after);
  // Per-request bodies (RunPlan::per_request): fills `fill` for this request (its key, the
  // conversation's tag, the trace row; a trace row's model may pick `group`) and sets the
  // requests.csv `prompt`. Returns &fill.
  const BodyFill* fill_body(BodyFill& fill, const StartTicket& ticket, Conversation* c,
                            int64_t item, int& group, int64_t& prompt);
  // The conversation is over (last turn, a failed live turn, a dropped session turn).
  void end_conversation(Conversation& c);

  // Concurrency mode: one per virtual user. Rate mode with multi-turn conversations: one per
  // session (a deque: pins and live requests keep their addresses), reused from free_sessions_.
  std::deque<Conversation> users_;
  std::vector<int32_t> free_sessions_;
  bool sessions_ = false;  // rate mode with multi-turn conversations
  int64_t conversation_cursor_ = 0;
  int64_t item_cursor_ = 0;
  int64_t sequence_ = 0;  // requests (and conversations) keyed so far: request_key()
  // The item (or conversation) the loop's `taken`-th start sends: by the cursor from the
  // loop's offset for a shipped list, by run-wide number for a dataset (RunPlan::dataset).
  int64_t item_for(int64_t taken, int64_t count) const;

  bool poll_pending_ = false;
  bool shutting_down_ = false;
  int pools_open_ = 0;
  int64_t interval_index_ = 0;
  int64_t next_boundary_ = 0;
  int64_t interval_start_ = 0;
  int64_t lag_due_ = 0;
  int64_t lag_max_interval_ = 0;
  uint64_t idle_mark_ = 0;
  int64_t wall_mark_ = 0;
  std::string error_;

  std::thread thread_;
  std::atomic<bool> done_{false};
  std::mutex stop_mu_;  // guards async_ready_ against the handle's close
  bool async_ready_ = false;
  bool stop_requested_ = false;
  int64_t stop_grace_ = 0;
};

}  // namespace llmload::worker
