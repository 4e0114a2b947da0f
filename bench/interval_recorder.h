// IntervalRecorder (bench only: the design llmload's per-loop interval buffers in
// worker/recorder.h are measured against in bench/hdr_histogram_bench.cpp): one writer thread
// records values into the current interval histogram while a reader thread takes finished
// intervals, with nothing lost or counted twice between them (the reference Recorder built on a
// WriterReaderPhaser, for a single writer).
//
// Writer path (record / record_corrected): wait-free — two atomic increments around the
// histogram update, no lock, no allocation, no loop that depends on the reader.
// Reader path (take_interval): flips the phase so new records go to the other histogram,
// then waits for a writer still inside the old phase to leave it (at most one record's
// duration), and hands the finished histogram over. Readers are serialized by a mutex.
//
//   writer:  enter = start_epoch_++;  hist[phase(enter)].record(v);  end_epoch[phase(enter)]++
//   reader:  swap start_epoch_ to the other phase's base; wait until the old phase's
//            end epoch equals the start epoch value swapped out (every writer that entered
//            the old phase has left it); the old histogram is now the reader's.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include "common/hdr_histogram.h"

namespace llmload {

class IntervalRecorder {
 public:
  // Both interval buffers get `prototype`'s settings (its counts are not copied).
  explicit IntervalRecorder(const HdrHistogram& prototype)
      : hist_{blank(prototype), blank(prototype)} {}
  IntervalRecorder(const IntervalRecorder&) = delete;
  IntervalRecorder& operator=(const IntervalRecorder&) = delete;

  // --- writer thread only --------------------------------------------------------------
  // As HdrHistogram::record: false (and counted as the interval's overflow) when out of range.
  bool record(int64_t value, int64_t count = 1) noexcept {
    int64_t enter = start_epoch_.fetch_add(1, std::memory_order_acq_rel);
    bool ok = hist_[phase_of(enter)].record(value, count);
    end_epoch_[phase_of(enter)].fetch_add(1, std::memory_order_release);
    return ok;
  }
  bool record_corrected(int64_t value, int64_t expected_interval) noexcept {
    int64_t enter = start_epoch_.fetch_add(1, std::memory_order_acq_rel);
    bool ok = hist_[phase_of(enter)].record_corrected(value, expected_interval);
    end_epoch_[phase_of(enter)].fetch_add(1, std::memory_order_release);
    return ok;
  }

  // --- reader thread(s) ----------------------------------------------------------------
  // Moves everything recorded since the previous take into `into` (whose previous contents
  // are discarded; it must have the recorder's settings, else it is replaced by a histogram
  // that has them), with start_time_ms / end_time_ms set from the arguments. No allocation
  // when `into` has the recorder's settings: buffers are swapped, not copied.
  void take_interval(HdrHistogram& into, int64_t start_time_ms = 0, int64_t end_time_ms = 0) {
    std::lock_guard<std::mutex> lock(reader_mutex_);
    // The phase not in use was fully handed over at the previous take; clear it for reuse.
    int old_phase = phase_of(start_epoch_.load(std::memory_order_acquire));
    int next_phase = 1 - old_phase;
    hist_[next_phase].reset();
    int64_t next_base = next_phase == 0 ? 0 : std::numeric_limits<int64_t>::min();
    end_epoch_[next_phase].store(next_base, std::memory_order_release);
    int64_t old_start = start_epoch_.exchange(next_base, std::memory_order_acq_rel);
    // Writers that entered the old phase leave it within one record call.
    for (int spins = 0; end_epoch_[old_phase].load(std::memory_order_acquire) != old_start;
         ++spins) {
      if (spins > 64) std::this_thread::yield();
    }
    HdrHistogram& done = hist_[old_phase];
    if (same_settings(into, done)) {
      std::swap(into, done);
    } else {
      into = done;
    }
    into.start_time_ms = start_time_ms;
    into.end_time_ms = end_time_ms;
  }

  // Convenience: the finished interval as a new histogram (allocates).
  HdrHistogram take_interval_copy(int64_t start_time_ms = 0, int64_t end_time_ms = 0) {
    HdrHistogram out = blank(hist_[0]);
    take_interval(out, start_time_ms, end_time_ms);
    return out;
  }

 private:
  // Phase 0 counts up from 0 (start epoch >= 0), phase 1 from INT64_MIN (start epoch < 0).
  static int phase_of(int64_t epoch) noexcept { return epoch < 0 ? 1 : 0; }
  static HdrHistogram blank(const HdrHistogram& p) {
    return HdrHistogram(p.lowest_discernible(), p.highest_trackable(), p.significant_digits());
  }
  static bool same_settings(const HdrHistogram& a, const HdrHistogram& b) {
    return a.lowest_discernible() == b.lowest_discernible() &&
           a.highest_trackable() == b.highest_trackable() &&
           a.significant_digits() == b.significant_digits();
  }

  std::atomic<int64_t> start_epoch_{0};
  std::atomic<int64_t> end_epoch_[2] = {0, std::numeric_limits<int64_t>::min()};
  HdrHistogram hist_[2];
  std::mutex reader_mutex_;
};

}  // namespace llmload
