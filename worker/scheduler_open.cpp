#include "worker/scheduler_open.h"

#include <algorithm>
#include <cmath>

namespace llmload::worker {

OpenLoopScheduler::OpenLoopScheduler(const SchedulerConfig& config, const Clock& clock,
                                     SchedulerHost& host)
    : Scheduler(config, clock, host), rng_(config.seed), think_rng_(config.seed ^ 0x7468696e6bULL) {
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

namespace {
bool later(const auto& a, const auto& b) {
  return a.at > b.at || (a.at == b.at && a.session > b.session);
}
}  // namespace

void OpenLoopScheduler::finished_hook(const StartTicket& ticket, int64_t now) {
  if (ticket.user < 0) return;
  int64_t think = 0;
  if (!config_.think_time.is_zero())
    think = std::max<int64_t>(0, static_cast<int64_t>(config_.think_time.sample(think_rng_)));
  wakes_.push_back(Wake{now + think, ticket.user});
  std::push_heap(wakes_.begin(), wakes_.end(), later<Wake, Wake>);
}

int64_t OpenLoopScheduler::poll_load(int64_t now) {
  int starts = 0;
  const int max_starts = std::max(1, config_.max_starts_per_poll);
  // Sessions whose think time is over: their next turn.
  while (!wakes_.empty() && wakes_.front().at <= now && starts < max_starts) {
    std::pop_heap(wakes_.begin(), wakes_.end(), later<Wake, Wake>);
    const Wake w = wakes_.back();
    wakes_.pop_back();
    if (w.at >= window_end_) {
      end(window_end_, EndReason::kWindow);
      return kNever;
    }
    StartTicket ticket{w.session, w.at, measured_at(w.at), true};
    if (config_.max_in_flight > 0 && in_flight() >= config_.max_in_flight) {
      drop(ticket);
    } else if (!start(ticket, w.at)) {
      return kNever;
    }
    ++starts;
  }
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
  const bool follow_up_due = !wakes_.empty() && wakes_.front().at <= now;
  if (starts >= max_starts && (next_time_ <= now || follow_up_due)) return now;
  return wakes_.empty() ? next_time_ : std::min(next_time_, wakes_.front().at);
}

}  // namespace llmload::worker
