// Live merge of the workers' interval REPORTs (DESIGN.md "Data flow").
//
// Every REPORT is merged, exactly (through the histograms), into:
//   - the run's cumulative groups (one GroupStats per label set): summary.json at the end; a
//     report reaches them through its interval, merged in once the interval is taken (one walk
//     of a report's histograms per report, not two), so they are whole once every interval is;
//   - the worker's own totals (summary.json run.workers[].totals);
//   - the run's client timing (every loop's token reads and lag samples: summary.json run.client);
//   - the pending interval of its sequence number: one timeseries.csv row and one set of
//     histograms.hlog entries once every worker still reporting has sent that interval (or the
//     coordinator gives up waiting for it: a lost worker never holds the live view back).
// A worker lost mid-run keeps everything it reported up to its last REPORT.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/group_stats.h"
#include "common/target_series.h"

namespace llmload::coord {

struct MergedInterval {
  int64_t seq = 0;
  GroupStats total;                          // every group of every worker in the interval, merged
  std::map<std::string, GroupStats> groups;  // the interval by group_key(labels), merged
  int64_t start_ns = 0;                      // earliest interval start reported, coordinator clock
  int64_t in_flight = 0;                     // summed over the workers that reported it
  int64_t end_ns = 0;                        // latest interval end reported, coordinator clock
  int64_t interval_ns = 0;                   // longest interval length reported
  int64_t loop_lag_us_max = 0;               // worst loop lag of any worker
  int reporters = 0;                         // workers that reported it
  std::map<std::string, double> target;      // the target's /metrics scrape it carried, if any
};

class LiveMerge {
 public:
  explicit LiveMerge(std::size_t workers)
      : worker_totals_(workers),
        last_seq_(workers, 0),
        cpu_(workers),
        worker_client_(workers),
        worker_rss_(workers, 0) {}

  // Merges interval `seq` (>= 1) of worker `w`; `clock_offset_ns` converts its clock to the
  // coordinator's (coordinator = worker − offset). A seq not above the worker's last one is a
  // duplicate: refused (false), nothing merged. The rvalue form consumes `snap`: a group the
  // interval does not have yet takes the snapshot's histograms as they are (no copy).
  bool add(std::size_t w, int64_t seq, IntervalSnapshot&& snap, int64_t clock_offset_ns);
  bool add(std::size_t w, int64_t seq, const IntervalSnapshot& snap, int64_t clock_offset_ns) {
    return add(w, seq, IntervalSnapshot(snap), clock_offset_ns);
  }

  // Pending intervals with seq <= through, in order (removed), each with its `total` merged from
  // its groups (once per interval, not once per report).
  std::vector<MergedInterval> take_through(int64_t through);
  // The lowest pending seq (0 when none).
  int64_t oldest_pending() const { return pending_.empty() ? 0 : pending_.begin()->first; }

  int64_t last_seq(std::size_t w) const { return last_seq_[w]; }
  const Counters& worker_totals(std::size_t w) const { return worker_totals_[w]; }
  // Cumulative, by group_key(labels), through the intervals taken (take_through): every group
  // reported is there from its first report (labels), its counts once its intervals are taken;
  // everything after take_through(max).
  const std::map<std::string, GroupStats>& groups() const { return groups_; }
  // Everything merged so far, pending intervals included.
  GroupStats total() const;
  // Every report's ClientTiming, merged.
  const ClientTiming& client() const { return client_; }
  int64_t reports_merged() const { return reports_; }
  // A worker's process CPU busy share and host steal share over everything it reported, each
  // interval weighted by its length ([0, 1]; 0 before any report).
  double worker_cpu_busy(std::size_t w) const { return cpu_[w].busy(); }
  double worker_steal(std::size_t w) const { return cpu_[w].steal(); }
  // Every scrape of the target's /metrics the reports carried (url left empty).
  const TargetMetrics& target() const { return target_; }
  // A worker's own ClientTiming, merged over its reports.
  const ClientTiming& worker_client(std::size_t w) const { return worker_client_[w]; }
  // The largest peak resident set a worker reported, bytes (0: none reported).
  int64_t worker_peak_rss(std::size_t w) const { return worker_rss_[w]; }

 private:
  std::map<std::string, GroupStats> groups_;
  ClientTiming client_;
  std::vector<Counters> worker_totals_;
  std::vector<int64_t> last_seq_;
  struct CpuSum {
    double busy_ns = 0, steal_ns = 0, wall_ns = 0;
    double busy() const { return wall_ns > 0 ? busy_ns / wall_ns : 0.0; }
    double steal() const { return wall_ns > 0 ? steal_ns / wall_ns : 0.0; }
  };
  std::vector<CpuSum> cpu_;
  std::vector<ClientTiming> worker_client_;
  std::vector<int64_t> worker_rss_;
  std::map<int64_t, MergedInterval> pending_;
  int64_t reports_ = 0;
  TargetMetrics target_;
};

}  // namespace llmload::coord
