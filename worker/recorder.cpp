#include "worker/recorder.h"

namespace llmload::worker {

void LoopInterval::reset() {
  for (GroupStats& g : groups) g.reset();
  rows.clear();
  client.reset();
  index = start_ns = end_ns = in_flight = lag_us_max = 0;
  busy_fraction = 0;
  last = false;
  measured_end_ns = -1;
}

Recorder::Recorder(std::vector<Labels> groups, bool keep_rows)
    : labels_(std::move(groups)), keep_rows_(keep_rows) {
  active_ = fresh();
  // One spare ready, so the first swap does not allocate.
  empty_.push(fresh());
}

Recorder::~Recorder() = default;

LoopInterval* Recorder::fresh() {
  auto buf = std::make_unique<LoopInterval>();
  buf->groups.reserve(labels_.size());
  for (const Labels& l : labels_) {
    buf->groups.emplace_back(l);
    buf->groups.back().prepare_all();
  }
  LoopInterval* raw = buf.get();
  std::lock_guard<std::mutex> lock(all_mu_);
  all_.push_back(std::move(buf));
  return raw;
}

void Recorder::swap(int64_t index, int64_t start_ns, int64_t end_ns, int64_t in_flight,
                    int64_t lag_us_max, double busy_fraction, bool last) {
  LoopInterval* full = active_;
  full->index = index;
  full->start_ns = start_ns;
  full->end_ns = end_ns;
  full->in_flight = in_flight;
  full->lag_us_max = lag_us_max;
  full->busy_fraction = busy_fraction;
  full->last = last;
  // Keep the hand-off order: older overflowed buffers first.
  size_t i = 0;
  while (i < overflow_.size() && full_.push(overflow_[i])) ++i;
  overflow_.erase(overflow_.begin(), overflow_.begin() + static_cast<long>(i));
  if (!overflow_.empty() || !full_.push(full)) overflow_.push_back(full);
  LoopInterval* next = empty_.pop();
  if (next == nullptr) next = fresh();
  active_ = next;
}

LoopInterval* Recorder::take() {
  if (LoopInterval* b = full_.pop()) return b;
  if (joined_ && !overflow_.empty()) {
    LoopInterval* b = overflow_.front();
    overflow_.erase(overflow_.begin());
    return b;
  }
  return nullptr;
}

void Recorder::give_back(LoopInterval* buffer) {
  buffer->reset();
  if (!empty_.push(buffer)) {
    // The loop has more spares than the ring holds: keep this one parked in all_ (never
    // reused). Cannot happen in practice: the loop takes one spare per swap.
  }
}

}  // namespace llmload::worker
