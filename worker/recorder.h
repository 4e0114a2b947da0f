// Recorder: one loop's measurements. Each finished request is recorded into the GroupStats of
// its group in the ACTIVE interval buffer (single writer: the loop thread; no lock, and no
// allocation once each metric's histogram exists). At every interval boundary the loop calls
// swap(): the full buffer goes to the control thread through a lock-free single-producer ring,
// and an emptied buffer comes back the other way (a new one is allocated only when the control
// thread has not returned one yet).
//
// Phase gating: warmup requests are never recorded; a request is measured or not by when it
// STARTED (the scheduler's StartTicket::measured), whatever the phase when it ends. The
// Recorder trusts the flag it is given: group() hands out nothing for unmeasured requests.
//
// Threads: record side (group, add_row, swap, finish) on the loop thread; take / give_back on
// the control thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/group_stats.h"
#include "common/results_csv.h"
#include "worker/spsc_ring.h"

namespace llmload::worker {

// What one loop measured in one interval.
struct LoopInterval {
  int64_t index = 0;     // interval number: [window_start + index·I, window_start + (index+1)·I)
  int64_t start_ns = 0;  // as the loop saw it
  int64_t end_ns = 0;
  std::vector<GroupStats> groups;  // one per group id, labels set (most may be empty)
  std::vector<RequestRow> rows;    // measured requests finished in it (requests.csv), if kept
  int64_t in_flight = 0;           // at end_ns
  int64_t lag_us_max = 0;          // worst timer lag seen in the interval
  ClientTiming client;             // measured requests' token reads, every lag sample
  double busy_fraction = 0;        // share of the interval the loop was not idle
  bool last = false;               // the loop's final buffer: nothing follows
  int64_t measured_end_ns = -1;    // last buffer: the measured window's end (Scheduler), -1 none

  void reset();  // empties the groups (keeps labels and histograms), the rows and the gauges
};

class Recorder {
 public:
  // `groups`: the labels of every group the loop can record into (group ids are indexes).
  Recorder(std::vector<Labels> groups, bool keep_rows);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // --- loop thread ---
  // The group's stats in the active buffer when the request is measured, else nullptr.
  GroupStats* group(bool measured, int group_id) {
    return measured ? &active_->groups[static_cast<size_t>(group_id)] : nullptr;
  }
  bool keep_rows() const { return keep_rows_; }
  void add_row(RequestRow row) { active_->rows.push_back(std::move(row)); }
  LoopInterval& active() { return *active_; }
  // Ends the active interval: fills its index, times and gauges, hands it to the control
  // thread and starts a fresh one. `last`: the loop's final hand-off.
  void swap(int64_t index, int64_t start_ns, int64_t end_ns, int64_t in_flight, int64_t lag_us_max,
            double busy_fraction, bool last);

  // --- control thread ---
  // The next full buffer in hand-off order, or nullptr. Give it back when merged.
  LoopInterval* take();
  // After the loop thread has been joined: take() also returns buffers that did not fit the
  // ring (the control thread stalled for a long time).
  void loop_joined() { joined_ = true; }
  void give_back(LoopInterval* buffer);

  size_t group_count() const { return labels_.size(); }

 private:
  static constexpr size_t kRing = 64;
  LoopInterval* fresh();
  std::vector<Labels> labels_;
  bool keep_rows_;
  LoopInterval* active_ = nullptr;
  SpscRing<LoopInterval, kRing> full_;   // loop → control
  SpscRing<LoopInterval, kRing> empty_;  // control → loop
  // Buffers the ring could not take (the control thread stalled for kRing intervals): kept in
  // order and pushed before anything newer. Touched by the loop thread only.
  std::vector<LoopInterval*> overflow_;
  bool joined_ = false;
  // Ownership of every buffer ever made, freed with the Recorder (after both threads are done).
  std::mutex all_mu_;  // only when a buffer is created
  std::vector<std::unique_ptr<LoopInterval>> all_;
};

}  // namespace llmload::worker
