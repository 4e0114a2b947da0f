// How a run's load is divided, once, into one part per event loop (DESIGN.md "Load split").
//
// The coordinator calls split_load with each worker's loop count. Every loop of the run gets a
// LoopShare: its concurrency or rate (and each stage's level), its part of the request budget
// and of the in-flight cap, its first-arrival offset and its seed. A worker gets a LoadShare:
// its loops' LoopShares plus the shape they share (mode, arrivals, stage times, warmup,
// duration, grace, think time), so the worker maps each LoopShare to a scheduler as it is and
// never looks at the scenario's load again.
//
// Integer quantities (concurrency, requests, the in-flight cap) are split by largest remainder
// over the run's loops, so the parts add up to exactly the scenario's numbers; a loop may get 0
// when there is less than one per loop. Rates are split evenly and add up to the scenario's.
//
// Constant-rate arrivals: rate R over L loops, loop g (0 .. L-1, in worker order) runs at R/L
// with its first arrival g/R after the start instant, so the merged arrivals are evenly spaced
// 1/R apart. Poisson arrivals need no offset: independent Poisson processes (each loop seeded
// from the scenario's seed and g) sum to the requested one.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/distribution.h"
#include "common/expected.h"
#include "common/scenario.h"

namespace llmload {

// One event loop's part of the run.
struct LoopShare {
  int index = 0;     // the loop's position in the run, 0 .. loop_count-1 (worker order)
  double level = 0;  // concurrency (virtual users) or rate (requests/s) before any stage
  std::vector<double> stage_levels;     // the level at the end of each stage (LoadShare::stage_ns)
  int64_t requests = 0;                 // measured-request budget (of a limit; may be 0)
  // The run-wide number of this loop's first budgeted request: the budgets of the loops before
  // it added up, so loop g's budget is numbers [first_request, first_request + requests) and
  // the run's budget is 0 .. run_requests-1 exactly once (dataset entries by number).
  int64_t first_request = 0;
  int64_t max_in_flight = 0;            // kRate: cap on requests in flight; 0 = no cap
  int64_t first_arrival_offset_ns = 0;  // kRate, constant arrivals: after the start instant
  uint64_t seed = 1;                    // the loop's random draws (groups, Poisson arrivals)

  bool operator==(const LoopShare&) const = default;
};

// One worker's part of the run: its loops, and the load shape every loop shares.
struct LoadShare {
  int index = 0;        // the worker's position among the run's workers, 0 .. count-1
  int count = 1;        // workers in the run
  int loop_count = 1;   // event loops in the run, over all workers
  double fraction = 1;  // this worker's loops / loop_count, (0, 1]
  LoadMode mode = LoadMode::kConcurrency;
  Arrival arrival = Arrival::kConstant;  // kRate
  std::vector<int64_t> stage_ns;         // each stage's length (one per stage level)
  int64_t warmup_ns = 0;
  int64_t duration_ns = 0;  // 0: no duration limit
  bool has_request_limit = false;
  int64_t run_requests = 0;  // the run's measured-request budget (0: no request limit)
  int64_t grace_ns = 0;
  Distribution think_time;  // ns, kConcurrency
  std::vector<LoopShare> loops;

  bool operator==(const LoadShare&) const = default;

  // The worker's in-flight requests at the flat level (kConcurrency), or its rate (kRate).
  double level() const;
  int64_t requests() const;  // the worker's measured-request budget

  nlohmann::json to_json() const;
  // Checks every field (types, ranges, each loop's stage levels matching stage_ns, at most
  // kMaxStages stages and kMaxLoops loops).
  static Expected<LoadShare> from_json(const nlohmann::json& j);
};

inline constexpr std::size_t kMaxStages = 10'000;
inline constexpr std::size_t kMaxLoops = 4'096;

// Splits `total` (>= 0) in proportion to `weights` (each >= 1) by largest remainder, ties to
// the lower index. The parts add up to `total` exactly.
std::vector<int64_t> split_integer(int64_t total, const std::vector<int64_t>& weights);
// Splits `total` (>= 0) in proportion to `weights`; the parts add up to `total` (the last
// part absorbs rounding).
std::vector<double> split_rate(double total, const std::vector<int64_t>& weights);

// The shares of `load` for workers running the given numbers of event loops (each >= 1; at
// least one worker). `seed`: the scenario's. In concurrency mode the request budget follows
// each loop's peak concurrency (a loop with no users gets no budget it could never use); in rate
// mode it goes evenly to the loops with a rate.
std::vector<LoadShare> split_load(const Load& load, const std::vector<int64_t>& loops_per_worker,
                                  uint64_t seed = 1);

}  // namespace llmload
