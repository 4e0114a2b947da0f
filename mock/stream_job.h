// One generation response in flight on a connection: waits for a capacity slot, then plays the
// Generation out on the loop's timer (headers, first token after TTFT + prompt time, a chunk
// every tokens_per_chunk x ITL, the finish events), injects its fault, records lateness and
// writes its ground-truth record. Phases:
//   kIdle -> [kQueued] -> kSlowHeaders? -> kWaitFirst -> kStreaming -> kIdle
//   (non-streamed: kNonStream; drip: kDrip; stalls: kStalled, left only by the client closing)
#pragma once

#include <cstdint>
#include <string>

#include "mock/capacity.h"
#include "mock/due_heap.h"
#include "mock/generation.h"
#include "mock/truth_log.h"

namespace llmload::mock {

class Connection;
class MockLoop;
class StreamFormat;

class StreamJob : public DueHeap::Item, public CapacityGate::Waiter {
 public:
  enum class Phase {
    kIdle,
    kQueued,
    kSlowHeaders,
    kWaitFirst,
    kStreaming,
    kNonStream,
    kDrip,
    kStalled
  };

  StreamJob(Connection& conn, MockLoop& loop) : conn_(conn), loop_(loop) {}
  // Takes over a planned generation; `truth` has the id, path and received time filled in.
  void begin(Generation gen, TruthRecord truth);
  // The loop's timer reached due_ns.
  void on_due(int64_t now);
  // A capacity slot freed up for this queued job.
  void on_slot(int64_t now);
  // The connection is closing under the job: unschedule, free the slot, log `outcome`.
  void abort(const char* outcome);
  bool active() const { return phase_ != Phase::kIdle; }
  Phase phase() const { return phase_; }

 private:
  void start(int64_t now);
  void send_headers(int64_t now);
  void emit(int64_t now);
  bool mid_stream_fault(int64_t now);
  void send_error(int status, const char* message, const char* outcome);
  void build_drip();
  int chunk_count() const;
  // Logs the record, frees the slot; `keep` false when the connection is being closed.
  void complete(const char* outcome, bool keep);
  void release_slot();
  const StreamFormat& format() const;

  Connection& conn_;
  MockLoop& loop_;
  Phase phase_ = Phase::kIdle;
  Generation gen_;
  TruthRecord truth_;
  bool headers_sent_ = false;
  bool fault_done_ = false;
  int sent_ = 0;
  int64_t first_due_ns_ = 0;
  std::string drip_;
  size_t drip_pos_ = 0;
};

}  // namespace llmload::mock
