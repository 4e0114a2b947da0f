// TraceScheduler: trace replay (load.trace). Each arrival is a row of the trace at the row's
// time, scaled by `speed`, after the start instant; a loop sends the rows the split gave it
// (trace_rows_for_loop), so the run's arrivals are the trace's, however many loops and workers.
// It is an open loop in every other way (OpenLoopScheduler): an intended start per arrival,
// lateness measured from it, an arrival over max_in_flight dropped and counted. Without `loop`
// the run ends at the last row (EndReason::kBudget: the window ends with the last measured
// request); with it the trace starts over, one mean gap after its last row, until the duration.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/trace.h"
#include "worker/scheduler.h"

namespace llmload::worker {

// The rows of `trace` that run loop `loop` of `loops` sends, in time order: row i goes to loop
// i mod loops, or, when it names a session, to the loop its session hashes to (so a session's
// rows keep their order on one loop).
std::vector<uint32_t> trace_rows_for_loop(const Trace& trace, int loop, int loops);

class TraceScheduler final : public Scheduler {
 public:
  TraceScheduler(const SchedulerConfig& config, const Clock& clock, SchedulerHost& host,
                 std::shared_ptr<const Trace> trace, const TraceSpec& spec,
                 std::vector<uint32_t> rows);

  // The intended time of the next arrival (kNever when none is left).
  int64_t next_arrival_ns() const { return next_time_; }

 private:
  int64_t poll_load(int64_t now) override;
  void finished_hook(const StartTicket&, int64_t) override {}
  void advance();
  int64_t time_of(size_t k, int64_t pass) const;

  std::shared_ptr<const Trace> trace_;
  std::vector<uint32_t> rows_;
  double speed_ = 1;
  bool loop_ = false;
  double period_ns_ = 0;  // a pass, in trace time (span + gap; double: no overflow)
  size_t next_ = 0;       // index into rows_
  int64_t pass_ = 0;
  int64_t next_time_ = kNever;
};

}  // namespace llmload::worker
