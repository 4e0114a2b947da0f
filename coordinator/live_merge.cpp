#include "coordinator/live_merge.h"

#include <algorithm>

namespace llmload::coord {

bool LiveMerge::add(std::size_t w, int64_t seq, IntervalSnapshot&& snap, int64_t clock_offset_ns) {
  if (w >= last_seq_.size() || seq <= last_seq_[w]) return false;
  last_seq_[w] = seq;
  ++reports_;
  MergedInterval& iv = pending_[seq];
  iv.seq = seq;
  ++iv.reporters;
  iv.in_flight += snap.in_flight;
  iv.end_ns = std::max(iv.end_ns, snap.end_ns - clock_offset_ns);
  const int64_t start = snap.start_ns - clock_offset_ns;
  iv.start_ns = iv.reporters == 1 ? start : std::min(iv.start_ns, start);
  iv.interval_ns = std::max(iv.interval_ns, snap.end_ns - snap.start_ns);
  iv.loop_lag_us_max = std::max(iv.loop_lag_us_max, snap.loop_lag_us_max);
  client_.merge(snap.client);
  if (!snap.target.empty()) {
    ++target_.scrapes;
    target_.add(snap.target);
    iv.target = std::move(snap.target);
  }
  target_.failed += snap.target_failed;
  if (target_.first_error.empty()) target_.first_error = snap.target_error;
  worker_client_[w].merge(snap.client);
  worker_rss_[w] = std::max(worker_rss_[w], snap.peak_rss_bytes);
  const double wall = double(snap.end_ns - snap.start_ns);
  cpu_[w].busy_ns += snap.cpu_busy * wall;
  cpu_[w].steal_ns += snap.steal * wall;
  cpu_[w].wall_ns += wall;
  for (GroupStats& g : snap.groups) {
    std::string key = group_key(g.labels);
    // The cumulative group gets its counts once per interval (take_through), not per report:
    // one scattered walk of each report's histograms (into the interval) instead of two.
    if (groups_.find(key) == groups_.end()) groups_.emplace(key, GroupStats(g.labels));
    worker_totals_[w].merge(g.counters);
    auto ig = iv.groups.find(key);
    if (ig == iv.groups.end() && g.encoded_histograms().empty()) {
      iv.groups.emplace(std::move(key), std::move(g));  // merging into an empty group is a copy
    } else {
      // Histograms kept encoded (the coordinator's REPORTs) go straight into the counts.
      if (ig == iv.groups.end()) ig = iv.groups.emplace(std::move(key), GroupStats(g.labels)).first;
      ig->second.merge(g);
    }
  }
  return true;
}

std::vector<MergedInterval> LiveMerge::take_through(int64_t through) {
  std::vector<MergedInterval> out;
  while (!pending_.empty() && pending_.begin()->first <= through) {
    MergedInterval& iv = pending_.begin()->second;
    for (const auto& [key, g] : iv.groups) {
      iv.total.merge(g);
      groups_.at(key).merge(g);
    }
    out.push_back(std::move(iv));
    pending_.erase(pending_.begin());
  }
  return out;
}

GroupStats LiveMerge::total() const {
  GroupStats t;
  for (const auto& [key, g] : groups_) t.merge(g);
  for (const auto& [seq, iv] : pending_) {
    for (const auto& [key, g] : iv.groups) t.merge(g);
  }
  return t;
}

}  // namespace llmload::coord
