// A performance rating per group against tiers of TTFT and decode speed (the scenario's
// `rating:`, else the defaults; summary.json keeps the tiers a run was rated with in
// run.rating_tiers and each group's tier in groups[].rating). By default:
//   excellent  TTFT p50 < 1 s  and decode tokens/s p50 > 100
//   good       TTFT p50 < 2 s  and > 50
//   fair       TTFT p50 < 4 s  and > 25
//   poor       anything slower
// A group earns the best tier whose both bounds it meets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/group_stats.h"

namespace llmload {

struct RatingTier {
  std::string name;
  double ttft_ms_below;
  double tokens_per_s_above;
  bool operator==(const RatingTier&) const = default;
};

std::vector<RatingTier> default_rating_tiers();
// "excellent:1s:100,good:2s:50,fair:4s:25" (name:ttft:tokens_per_s, best first).
Expected<std::vector<RatingTier>> parse_rating_tiers(const std::string& text);

// "excellent", "good", "fair", "poor", or nullopt when the group has no ttft or decode speed.
std::optional<std::string> rate_group(const GroupStats& g, const std::vector<RatingTier>& tiers);

}  // namespace llmload
