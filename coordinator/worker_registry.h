// The coordinator's view of its workers: who joined (HELLO), who is alive (heard within 3 s),
// each one's clock offset and where it is in the run. Pure bookkeeping on explicit times, so
// heartbeats and loss are tested with fake time; the Coordinator does the socket I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/wire.h"
#include "coordinator/clock_offset.h"

namespace llmload::coord {

enum class WorkerState : uint8_t {
  kJoined,     // WELCOME sent, waiting for the run
  kPreflight,  // RUN sent, pre-flight verdict not in yet
  kReady,      // pre-flight passed, waiting for the start instant / running
  kDone,       // DONE received: its run is over
  kLost,       // silent for 3 s, gone (BYE) or disconnected during the run
};
std::string_view name(WorkerState s);

struct WorkerEntry {
  std::string routing_id;  // the ROUTER identity of its connection
  wire::Hello hello;
  WorkerState state = WorkerState::kJoined;
  int64_t joined_ns = 0;
  int64_t last_heard_ns = 0;      // coordinator clock
  int64_t last_ping_sent_ns = 0;  // coordinator clock
  int64_t ping_seq = 0;
  ClockOffset clock;
  int64_t last_report_seq = 0;   // highest interval REPORT merged
  std::string lost_reason;       // when kLost
  bool started = false;          // GO sent: it may have sent load
  int64_t lost_ns = 0;           // when it was marked lost (coordinator clock)
  bool done_after_loss = false;  // lost, yet its final REPORT and DONE came: its data is all in
};

class WorkerRegistry {
 public:
  explicit WorkerRegistry(int64_t silence_ns = wire::kSilenceNs,
                          int64_t heartbeat_ns = wire::kHeartbeatNs)
      : silence_ns_(silence_ns), heartbeat_ns_(heartbeat_ns) {}

  // Adds a worker after its HELLO. Error when its worker_id is taken by a live worker.
  Expected<WorkerEntry*> add(const std::string& routing_id, const wire::Hello& hello, int64_t now);
  WorkerEntry* find(const std::string& routing_id);
  // Any message from the worker: it is alive.
  void heard(WorkerEntry& w, int64_t now) { w.last_heard_ns = now; }
  void mark_lost(WorkerEntry& w, std::string reason, int64_t now);

  // Workers not lost and not done whose last message is older than the silence limit: marked
  // lost ("silent for 3.0 s") and returned.
  std::vector<WorkerEntry*> expire(int64_t now);
  // Workers (joined, not lost) due a PING at `now`; updates last_ping_sent_ns and ping_seq.
  std::vector<WorkerEntry*> due_pings(int64_t now);

  // Workers in join order (stable: the order of the load split and of summary.json).
  std::vector<WorkerEntry*> all();
  std::size_t size() const { return order_.size(); }
  std::size_t count(WorkerState s) const;
  // Not lost.
  std::size_t alive() const;

 private:
  int64_t silence_ns_;
  int64_t heartbeat_ns_;
  std::map<std::string, WorkerEntry> by_routing_;
  std::vector<std::string> order_;
};

}  // namespace llmload::coord
