// OpenLoopScheduler: rate mode. Arrivals follow the LoadProfile's rate, each with an intended
// start time, whatever the target does (coordinated omission: a stalled target cannot slow the
// arrivals down; the queue metric shows how late each request really started).
//   constant: arrival k at the time the profile's expected arrivals reach k (from the first
//             arrival at start + first_arrival_offset_ns), so spacing is exactly 1/rate at a
//             flat rate and follows a ramp without drift;
//   Poisson:  unit-exponential gaps in expected arrivals (time rescaling), so the gaps at a flat
//             rate are exponential with mean 1/rate and a ramp gives an inhomogeneous process.
// An arrival due while max_in_flight requests are in flight is dropped and counted (dropped
// counter, measured by its intended time), never silently skipped. Late arrivals (the loop
// woke late) all start at once with their own intended times.
//
// Sessions (multi-turn conversations in rate mode): an arrival starts a session's first turn; a
// finished request whose ticket names a session (user >= 0: the host says it has a next turn)
// has that next turn start after the config's think time, with that instant as its intended
// start. Such a follow-up is started (or dropped at the cap, which ends its session) like an
// arrival, and counts toward the request budget like any request.
#pragma once

#include <cstdint>
#include <vector>

#include "common/distribution.h"
#include "worker/scheduler.h"

namespace llmload::worker {

class OpenLoopScheduler final : public Scheduler {
 public:
  OpenLoopScheduler(const SchedulerConfig& config, const Clock& clock, SchedulerHost& host);

  // The intended time of the next arrival (kNever when the rate stays 0 for good).
  int64_t next_arrival_ns() const { return next_time_; }

 private:
  int64_t poll_load(int64_t now) override;
  void finished_hook(const StartTicket& ticket, int64_t now) override;
  void advance();
  double exp1();

  struct Wake {
    int64_t at;
    int32_t session;
  };
  std::vector<Wake> wakes_;  // sessions thinking before their next turn: a min-heap on `at`
  Rng rng_;
  Rng think_rng_;
  double next_mass_ = 0;
  int64_t next_time_ = kNever;
};

}  // namespace llmload::worker
