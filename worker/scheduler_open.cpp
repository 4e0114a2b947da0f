#include "worker/scheduler_open.h"

#include <algorithm>
#include <cmath>

namespace llmload::worker {

OpenLoopScheduler::OpenLoopScheduler(const SchedulerConfig& config, const Clock& clock,
                                     SchedulerHost& host)
    : Scheduler(config, clock, host), rng_(config.seed) {
  if (config_.poisson) {
    next_mass_ = exp1();
  } else {
    next_mass_ =
        profile_.mass_at(config_.start_ns + std::max<int64_t>(0, config_.first_arrival_offset_ns));
  }
  next_time_ = profile_.time_at_mass(next_mass_);
}

double OpenLoopScheduler::exp1() {
  // uniform01 is in [0, 1): 1 - u is in (0, 1], so the log is finite.
  return -std::log(1.0 - rng_.uniform01());
}

void OpenLoopScheduler::advance() {
  next_mass_ += config_.poisson ? exp1() : 1.0;
  next_time_ = profile_.time_at_mass(next_mass_);
}

int64_t OpenLoopScheduler::poll_load(int64_t now) {
  int starts = 0;
  const int max_starts = std::max(1, config_.max_starts_per_poll);
  while (next_time_ <= now && starts < max_starts) {
    const int64_t intended = next_time_;
    if (intended >= window_end_) {
      end(window_end_, EndReason::kWindow);
      return kNever;
    }
    StartTicket ticket{-1, intended, measured_at(intended), true};
    if (config_.max_in_flight > 0 && in_flight() >= config_.max_in_flight) {
      drop(ticket);
    } else if (!start(ticket, intended)) {
      return kNever;
    }
    advance();
    ++starts;
  }
  if (starts >= max_starts && next_time_ <= now) return now;
  return next_time_;
}

}  // namespace llmload::worker
