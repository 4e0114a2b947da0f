#include "worker/scheduler_trace.h"

#include <algorithm>
#include <cmath>

namespace llmload::worker {

std::vector<uint32_t> trace_rows_for_loop(const Trace& trace, int loop, int loops) {
  std::vector<uint32_t> out;
  const uint64_t n = uint64_t(std::max(1, loops));
  for (size_t i = 0; i < trace.rows.size(); ++i) {
    const TraceRow& r = trace.rows[i];
    const uint64_t owner = r.has_session ? r.session % n : uint64_t(i) % n;
    if (owner == uint64_t(loop)) out.push_back(uint32_t(i));
  }
  return out;
}

TraceScheduler::TraceScheduler(const SchedulerConfig& config, const Clock& clock,
                               SchedulerHost& host, std::shared_ptr<const Trace> trace,
                               const TraceSpec& spec, std::vector<uint32_t> rows)
    : Scheduler(config, clock, host),
      trace_(std::move(trace)),
      rows_(std::move(rows)),
      speed_(spec.speed > 0 ? spec.speed : 1),
      loop_(spec.loop) {
  period_ns_ = double(trace_->span_ns) + double(trace_loop_gap_ns(*trace_));
  next_time_ = rows_.empty() ? kNever : time_of(0, 0);
}

int64_t TraceScheduler::time_of(size_t k, int64_t pass) const {
  const double trace_ns = double(trace_->rows[rows_[k]].t_ns) + double(pass) * period_ns_;
  // The offset in double (no overflow), added to the integer start (no rounding of the start).
  const double offset = trace_ns / speed_;
  if (offset >= 9e18 - double(config_.start_ns)) return kNever;
  return config_.start_ns + int64_t(offset);
}

void TraceScheduler::advance() {
  if (++next_ >= rows_.size()) {
    if (!loop_) {
      next_time_ = kNever;
      return;
    }
    next_ = 0;
    ++pass_;
  }
  next_time_ = time_of(next_, pass_);
}

int64_t TraceScheduler::poll_load(int64_t now) {
  if (next_time_ == kNever) {
    // Every row of this loop's part was sent: the loop's run ends with its last request.
    end(now, EndReason::kBudget);
    return kNever;
  }
  int starts = 0;
  const int max_starts = std::max(1, config_.max_starts_per_poll);
  while (next_time_ <= now && starts < max_starts) {
    const int64_t intended = next_time_;
    if (intended >= window_end_) {
      end(window_end_, EndReason::kWindow);
      return kNever;
    }
    StartTicket ticket{-1, intended, measured_at(intended), true};
    ticket.trace_seq = pass_ * int64_t(trace_->rows.size()) + int64_t(rows_[next_]);
    if (config_.max_in_flight > 0 && in_flight() >= config_.max_in_flight) {
      drop(ticket);
    } else if (!start(ticket, intended)) {
      return kNever;
    }
    advance();
    ++starts;
    if (next_time_ == kNever) {
      end(intended, EndReason::kBudget);
      return kNever;
    }
  }
  if (starts >= max_starts && next_time_ <= now) return now;
  return next_time_;
}

}  // namespace llmload::worker
