// Scheduler: decides WHEN one loop starts requests and when its part of the run ends. It owns
// no I/O and no timers: the loop calls poll() when the wake time it returned comes (or after a
// request finished), and the scheduler calls back into its SchedulerHost to start requests.
// Everything reads time through a Clock, so pacing, phases and grace are tested with FakeClock.
//
// Two kinds (DESIGN.md "How a run starts and ends", "Data flow"):
//   ClosedLoopScheduler (scheduler_closed.h): N virtual users, each starting its next request
//     when its previous one finished (plus optional think time); N follows the LoadProfile.
//   OpenLoopScheduler (scheduler_open.h): arrivals at a rate, constant or Poisson, each with an
//     intended start time; over the max-in-flight cap an arrival is dropped and counted.
//
// Phases (absolute CLOCK_MONOTONIC ns):
//   before start_ns                 nothing starts;
//   [start_ns, window_start)        warmup: requests start but are not measured;
//   [window_start, window_end)      measured: a request is measured iff it STARTED here (rate
//                                   mode: iff its intended start is here);
//   ended                           no request starts any more: the window ended, the loop's
//                                   request budget was used up (the budget-th measured request
//                                   started), or stop() was called. Requests in flight may finish
//                                   until end_ns + grace; then the host cancels the rest
//                                   (error kind `cancelled`). finished() once nothing is in flight.
#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/distribution.h"
#include "common/load_split.h"
#include "worker/scheduler_profile.h"

namespace llmload::worker {

// One request the scheduler asks the host to start.
struct StartTicket {
  int32_t user = -1;        // closed loop: the virtual user (0..); open loop: -1, or the
                            // session of a conversation's next turn (scheduler_open.h)
  int64_t intended_ns = 0;  // open loop: the intended start; closed loop: when it was started
  bool measured = false;    // started inside the measured window: record it
  bool open_loop = false;   // rate mode: queue, ttft_sent and e2e_sent apply
  int64_t trace_seq = -1;   // trace replay: pass × rows + row of the trace (-1: none)
};

class SchedulerHost {
 public:
  virtual ~SchedulerHost() = default;
  // Start one request now. Whatever its fate, the host later calls Scheduler::on_finished with
  // this ticket exactly once (never from inside start_request).
  virtual void start_request(const StartTicket& ticket) = 0;
  // Open loop: an arrival not started because max_in_flight requests were in flight.
  virtual void on_dropped(const StartTicket& ticket) = 0;
  // The grace period is over: end every request in flight as `cancelled` (the host calls
  // on_finished for each, possibly from inside this call).
  virtual void cancel_in_flight() = 0;
};

struct SchedulerConfig {
  int64_t start_ns = 0;     // load begins (the run's start instant)
  int64_t warmup_ns = 0;    // measured window starts at start_ns + warmup_ns
  int64_t duration_ns = 0;  // measured window length; 0: no duration limit
  bool has_request_limit = false;
  int64_t requests = 0;  // this loop's measured-request budget (may be 0 of a limit)
  int64_t grace_ns = 30'000'000'000;
  // The level: virtual users (closed loop) or requests per second (open loop).
  double initial_level = 0;
  std::vector<ProfileStage> stages;
  // Open loop.
  bool poisson = false;
  uint64_t seed = 1;                    // Poisson draws
  int64_t first_arrival_offset_ns = 0;  // constant arrivals: first arrival at start + this
  int64_t max_in_flight = 0;            // 0: no cap
  // Closed loop: pause between a user's response and its next request.
  Distribution think_time;  // ns
  // Upper bound on requests started per poll(), so one late wake-up cannot monopolise the loop;
  // the rest start on the next poll (poll() then returns "now").
  int max_starts_per_poll = 1024;
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, const Clock& clock, SchedulerHost& host);
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Does what is due at clock.now_ns(): starts requests, ends the run, cancels after the grace.
  // Returns the absolute time it next needs a poll() (kNever: only after a finish or stop()).
  int64_t poll();
  // A request this scheduler started has ended (any outcome) at clock.now_ns(). Never starts a
  // request itself: call poll() afterwards.
  void on_finished(const StartTicket& ticket);
  // Same, with the request's outcome time known (a measured request's end bounds the window).
  void on_finished(const StartTicket& ticket, int64_t end_ns);
  // Ends the run now: no request starts any more; in-flight ones get `grace_ns` from now.
  void stop(int64_t grace_ns);

  bool ended() const { return ended_; }
  // Why no request starts any more (kNotEnded while one may).
  enum class EndReason { kNotEnded, kWindow, kBudget, kStopped };
  EndReason end_reason() const { return end_reason_; }
  // The measured window's end as this loop saw it (DESIGN.md "Results", duration_s): its limit
  // (duration) or the stop instant when it ended by time; the end of its last measured request
  // when it ended by its request budget; -1 while not known or with nothing measured.
  int64_t measured_end_ns() const;
  // Ended, and nothing in flight any more: the loop's part of the run is over.
  bool finished() const { return ended_ && in_flight_ == 0; }
  int64_t end_ns() const { return end_ns_; }
  int64_t window_start_ns() const { return window_start_; }
  int64_t in_flight() const { return in_flight_; }
  int64_t started() const { return started_; }
  int64_t measured_started() const { return measured_started_; }
  int64_t dropped() const { return dropped_; }  // open loop, all phases
  int64_t measured_dropped() const { return measured_dropped_; }
  const LoadProfile& profile() const { return profile_; }

 protected:
  // Subclass work for one poll: start what is due at `now`; return the next wake (kNever none).
  virtual int64_t poll_load(int64_t now) = 0;
  virtual void finished_hook(const StartTicket& ticket, int64_t now) = 0;

  // Starts a request if the phase and budget allow. False when the run has ended (then the
  // caller stops starting).
  bool start(StartTicket ticket, int64_t phase_time);
  // Counts a dropped arrival (open loop).
  void drop(const StartTicket& ticket);
  void end(int64_t at, EndReason why);
  bool measured_at(int64_t t) const { return t >= window_start_; }

  SchedulerConfig config_;
  const Clock& clock_;
  SchedulerHost& host_;
  LoadProfile profile_;
  int64_t window_start_ = 0;
  int64_t window_end_ = kNever;  // kNever without a duration limit

 private:
  bool ended_ = false;
  bool cancelled_ = false;
  EndReason end_reason_ = EndReason::kNotEnded;
  int64_t end_ns_ = kNever;
  int64_t last_measured_end_ns_ = -1;
  int64_t grace_ns_ = 0;
  int64_t in_flight_ = 0;
  int64_t started_ = 0;
  int64_t measured_started_ = 0;
  int64_t dropped_ = 0;
  int64_t measured_dropped_ = 0;
};

// One loop's scheduler config, exactly as its share of the run says (common/load_split.h): the
// coordinator split the load once; nothing here splits or looks at the scenario again.
SchedulerConfig scheduler_config(const LoadShare& share, const LoopShare& loop, int64_t start_ns);

// The scheduler for a config: open loop when `open_loop`, else closed loop.
std::unique_ptr<Scheduler> make_scheduler(bool open_loop, const SchedulerConfig& config,
                                          const Clock& clock, SchedulerHost& host);

}  // namespace llmload::worker
