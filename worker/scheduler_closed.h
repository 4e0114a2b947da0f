// ClosedLoopScheduler: concurrency mode. Virtual users (VUs) each run one request at a time;
// when a VU's request finishes it waits its think time (a draw from the config's distribution)
// and starts the next. The number of active VUs follows the LoadProfile (floor of the level):
// when the level rises, free VUs start at once; when it falls, VUs retire as their requests
// finish (a request in flight is never cut short by a ramp down).
//
// No allocation after construction: VU state and the think-time heap are sized to the
// profile's highest level up front.
#pragma once

#include <cstdint>
#include <vector>

#include "worker/scheduler.h"

namespace llmload::worker {

class ClosedLoopScheduler final : public Scheduler {
 public:
  ClosedLoopScheduler(const SchedulerConfig& config, const Clock& clock, SchedulerHost& host);

  int64_t active_users() const { return active_; }
  int64_t max_users() const { return static_cast<int64_t>(user_count_); }

 private:
  int64_t poll_load(int64_t now) override;
  void finished_hook(const StartTicket& ticket, int64_t now) override;
  int64_t target_users(int64_t now) const;

  struct Wake {
    int64_t at;
    int32_t user;
  };
  size_t user_count_ = 0;
  std::vector<int32_t> free_;  // VUs not active, as a stack (lowest id on top)
  std::vector<Wake> wakes_;    // thinking VUs: a min-heap on `at`
  int64_t active_ = 0;         // VUs running a request or thinking
  Rng rng_;
};

}  // namespace llmload::worker
