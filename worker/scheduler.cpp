#include "worker/scheduler.h"

#include <algorithm>

#include "worker/scheduler_closed.h"
#include "worker/scheduler_open.h"

namespace llmload::worker {

SchedulerConfig scheduler_config(const LoadShare& share, const LoopShare& loop, int64_t start_ns) {
  SchedulerConfig c;
  c.start_ns = start_ns;
  c.warmup_ns = share.warmup_ns;
  c.duration_ns = share.duration_ns;
  c.has_request_limit = share.has_request_limit;
  c.requests = share.has_request_limit ? loop.requests : 0;
  c.grace_ns = share.grace_ns;
  c.initial_level = loop.level;
  for (size_t j = 0; j < share.stage_ns.size() && j < loop.stage_levels.size(); ++j) {
    c.stages.push_back(ProfileStage{share.stage_ns[j], loop.stage_levels[j]});
  }
  c.poisson = share.arrival == Arrival::kPoisson;
  c.seed = loop.seed ^ 0x5bd1e995ULL;
  c.first_arrival_offset_ns = loop.first_arrival_offset_ns;
  c.max_in_flight = loop.max_in_flight;
  c.think_time = share.think_time;
  return c;
}

Scheduler::Scheduler(const SchedulerConfig& config, const Clock& clock, SchedulerHost& host)
    : config_(config), clock_(clock), host_(host) {
  window_start_ = config_.start_ns + std::max<int64_t>(0, config_.warmup_ns);
  if (config_.duration_ns > 0) window_end_ = window_start_ + config_.duration_ns;
  profile_ = LoadProfile(config_.start_ns, window_start_, config_.initial_level, config_.stages);
  grace_ns_ = std::max<int64_t>(0, config_.grace_ns);
  // A loop whose share of a request limit is 0 has nothing to measure: it ends with the
  // warmup (or at once without one).
  if (config_.has_request_limit && config_.requests <= 0 && config_.warmup_ns <= 0) {
    end(config_.start_ns, EndReason::kBudget);
  }
}

int64_t Scheduler::poll() {
  const int64_t now = clock_.now_ns();
  if (!ended_) {
    if (now >= window_end_) {
      end(window_end_, EndReason::kWindow);
    } else if (config_.has_request_limit && config_.requests <= 0 && now >= window_start_) {
      end(window_start_, EndReason::kBudget);
    }
  }
  int64_t wake = kNever;
  if (!ended_) {
    if (now < config_.start_ns) return config_.start_ns;
    wake = poll_load(now);
    if (!ended_) {
      wake = std::min(wake, window_end_);
      if (config_.has_request_limit && config_.requests <= 0) wake = std::min(wake, window_start_);
    }
  }
  if (ended_) {
    if (in_flight_ == 0) return kNever;
    const int64_t deadline = end_ns_ > kNever - grace_ns_ ? kNever : end_ns_ + grace_ns_;
    if (now >= deadline) {
      if (!cancelled_) {
        cancelled_ = true;
        host_.cancel_in_flight();
      }
      return kNever;
    }
    return deadline;
  }
  return wake;
}

void Scheduler::on_finished(const StartTicket& ticket) {
  on_finished(ticket, clock_.now_ns());
}

void Scheduler::on_finished(const StartTicket& ticket, int64_t end_ns) {
  if (in_flight_ > 0) --in_flight_;
  if (ticket.measured) last_measured_end_ns_ = std::max(last_measured_end_ns_, end_ns);
  if (!ended_) finished_hook(ticket, clock_.now_ns());
}

int64_t Scheduler::measured_end_ns() const {
  switch (end_reason_) {
    case EndReason::kNotEnded:
      return -1;
    case EndReason::kBudget:
      return last_measured_end_ns_;
    case EndReason::kWindow:
    case EndReason::kStopped:
      // Ended by time: the window closed then, whatever finished in the grace (a stop during
      // warmup measured nothing).
      return end_ns_ > window_start_ ? end_ns_ : -1;
  }
  return -1;
}

void Scheduler::stop(int64_t grace_ns) {
  const int64_t now = clock_.now_ns();
  if (!ended_) {
    end(now, EndReason::kStopped);
    grace_ns_ = std::max<int64_t>(0, grace_ns);
  } else {
    // A stop during the grace can only shorten it.
    const int64_t deadline = now + std::max<int64_t>(0, grace_ns);
    if (end_ns_ + grace_ns_ > deadline) grace_ns_ = std::max<int64_t>(0, deadline - end_ns_);
  }
}

bool Scheduler::start(StartTicket ticket, int64_t phase_time) {
  if (ended_) return false;
  if (phase_time >= window_end_) {
    end(window_end_, EndReason::kWindow);
    return false;
  }
  ticket.measured = measured_at(phase_time);
  if (ticket.measured && config_.has_request_limit && measured_started_ >= config_.requests) {
    end(phase_time, EndReason::kBudget);
    return false;
  }
  ++started_;
  ++in_flight_;
  if (ticket.measured) ++measured_started_;
  host_.start_request(ticket);
  if (ticket.measured && config_.has_request_limit && measured_started_ >= config_.requests) {
    // The budget is spent: the end is reached as the last measured request starts.
    end(std::max(phase_time, clock_.now_ns()), EndReason::kBudget);
  }
  return true;
}

void Scheduler::drop(const StartTicket& ticket) {
  ++dropped_;
  if (ticket.measured) ++measured_dropped_;
  host_.on_dropped(ticket);
}

void Scheduler::end(int64_t at, EndReason why) {
  if (ended_) return;
  ended_ = true;
  end_ns_ = at;
  end_reason_ = why;
}

std::unique_ptr<Scheduler> make_scheduler(bool open_loop, const SchedulerConfig& config,
                                          const Clock& clock, SchedulerHost& host) {
  if (open_loop) return std::make_unique<OpenLoopScheduler>(config, clock, host);
  return std::make_unique<ClosedLoopScheduler>(config, clock, host);
}

}  // namespace llmload::worker
