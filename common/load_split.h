// How the coordinator divides one run's load among its workers (DESIGN.md "Load split").
//
// Every worker gets a LoadShare: its part of the concurrency, the rate and the request budget,
// in proportion to its weight (its thread count). Integer quantities (concurrency, requests) are
// split by largest remainder, so the shares always add up to exactly the scenario's numbers; a
// worker may get 0 of something when there is less than one per worker. Rates are split in
// proportion and add up to the scenario's rate.
//
// Constant-rate arrivals: with rate R over n workers, share k runs at R·w_k/W and offsets its
// first arrival by k/R, so for equal weights the merged arrivals are evenly spaced 1/R apart
// (with unequal weights the offsets still keep the first arrivals apart). Poisson arrivals need
// no offset: independent Poisson processes sum to the requested one.
//
// A worker splits its own share across its loops the same way (split_integer / split_rate).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/expected.h"
#include "common/scenario.h"

namespace llmload {

struct LoadShare {
  int index = 0;        // this share's position, 0 .. count-1
  int count = 1;        // number of shares of the run
  double fraction = 1;  // weight / total weight, (0, 1]
  LoadMode mode = LoadMode::kConcurrency;
  int64_t concurrency = 0;  // kConcurrency without stages: this share's in-flight requests
  double rate = 0;          // kRate without stages: this share's requests per second
  // One entry per scenario stage (same order): this share's level at the end of that stage.
  std::vector<int64_t> stage_concurrency;
  std::vector<double> stage_rate;
  int64_t requests = 0;       // this share's measured-request budget; 0 = no request limit
  int64_t max_in_flight = 0;  // kRate: this share's cap on requests in flight; 0 = no cap
  // kRate with constant arrivals: the first arrival is this long after the start instant.
  int64_t first_arrival_offset_ns = 0;

  bool operator==(const LoadShare&) const = default;

  nlohmann::json to_json() const;
  // Checks every field (types, ranges, stage vectors no longer than kMaxStages).
  static Expected<LoadShare> from_json(const nlohmann::json& j);
};

inline constexpr std::size_t kMaxStages = 10'000;

// Splits `total` (>= 0) in proportion to `weights` (each >= 1) by largest remainder, ties to
// the lower index. The parts add up to `total` exactly.
std::vector<int64_t> split_integer(int64_t total, const std::vector<int64_t>& weights);
// Splits `total` (>= 0) in proportion to `weights`; the parts add up to `total` (the last
// part absorbs rounding).
std::vector<double> split_rate(double total, const std::vector<int64_t>& weights);

// The shares of `load` for workers of the given weights (thread counts, each >= 1; at least
// one worker). In concurrency mode the request budget follows the concurrency split (a worker
// with no concurrency gets no budget it could never use); in rate mode it follows the weights.
std::vector<LoadShare> split_load(const Load& load, const std::vector<int64_t>& weights);

}  // namespace llmload
