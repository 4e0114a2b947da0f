#include "worker/scheduler_closed.h"

#include <algorithm>
#include <cmath>

namespace llmload::worker {

namespace {
bool later(const auto& a, const auto& b) {
  return a.at > b.at || (a.at == b.at && a.user > b.user);
}
}  // namespace

ClosedLoopScheduler::ClosedLoopScheduler(const SchedulerConfig& config, const Clock& clock,
                                         SchedulerHost& host)
    : Scheduler(config, clock, host), rng_(config.seed) {
  user_count_ = static_cast<size_t>(std::floor(profile_.max_level() + 1e-9));
  free_.reserve(user_count_);
  for (size_t i = user_count_; i-- > 0;) free_.push_back(static_cast<int32_t>(i));
  wakes_.reserve(user_count_);
}

int64_t ClosedLoopScheduler::target_users(int64_t now) const {
  return static_cast<int64_t>(std::floor(profile_.level_at(now) + 1e-9));
}

int64_t ClosedLoopScheduler::poll_load(int64_t now) {
  const int64_t target = target_users(now);
  int starts = 0;
  const int max_starts = std::max(1, config_.max_starts_per_poll);
  // VUs whose think time is over.
  while (!wakes_.empty() && wakes_.front().at <= now && starts < max_starts) {
    std::pop_heap(wakes_.begin(), wakes_.end(), later<Wake, Wake>);
    const int32_t user = wakes_.back().user;
    wakes_.pop_back();
    if (active_ > target) {
      --active_;
      free_.push_back(user);
      continue;
    }
    if (!start(StartTicket{user, now, false, false}, now)) return kNever;
    ++starts;
  }
  // New VUs when the level rose.
  while (active_ < target && !free_.empty() && starts < max_starts) {
    const int32_t user = free_.back();
    free_.pop_back();
    ++active_;
    if (!start(StartTicket{user, now, false, false}, now)) return kNever;
    ++starts;
  }
  if (starts >= max_starts) return now;
  int64_t wake = profile_.next_integer_change(now);
  if (!wakes_.empty()) wake = std::min(wake, wakes_.front().at);
  return wake;
}

void ClosedLoopScheduler::finished_hook(const StartTicket& ticket, int64_t now) {
  if (ticket.user < 0) return;
  if (active_ > target_users(now)) {
    --active_;
    free_.push_back(ticket.user);
    return;
  }
  int64_t think = 0;
  if (!config_.think_time.is_zero()) {
    think = std::max<int64_t>(0, static_cast<int64_t>(config_.think_time.sample(rng_)));
  }
  wakes_.push_back(Wake{now + think, ticket.user});
  std::push_heap(wakes_.begin(), wakes_.end(), later<Wake, Wake>);
}

}  // namespace llmload::worker
