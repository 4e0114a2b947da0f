#include "common/rating.h"

#include <sstream>

#include "common/duration.h"

namespace llmload {

std::vector<RatingTier> default_rating_tiers() {
  return {{"excellent", 1000, 100}, {"good", 2000, 50}, {"fair", 4000, 25}};
}

Expected<std::vector<RatingTier>> parse_rating_tiers(const std::string& text) {
  std::vector<RatingTier> tiers;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t a = item.find(':'), b = item.rfind(':');
    if (a == std::string::npos || a == b)
      return Error{"rating tier '" + item + "': expected name:ttft:tokens_per_s, e.g. good:2s:50"};
    auto ttft = parse_duration_ns(item.substr(a + 1, b - a - 1));
    if (!ttft) return Error{"rating tier '" + item + "': " + ttft.error()};
    char* end = nullptr;
    std::string tps = item.substr(b + 1);
    double v = std::strtod(tps.c_str(), &end);
    if (end == tps.c_str() || *end)
      return Error{"rating tier '" + item + "': '" + tps + "' is not a number"};
    tiers.push_back({item.substr(0, a), double(*ttft) / 1e6, v});
  }
  if (tiers.empty()) return Error{"rating tiers: none given"};
  return tiers;
}

std::optional<std::string> rate_group(const GroupStats& g, const std::vector<RatingTier>& tiers) {
  const HdrHistogram* ttft = g.histogram(Metric::kTtft);
  const HdrHistogram* tps = g.histogram(Metric::kDecodeTps);
  if (!ttft || ttft->total_count() == 0 || !tps || tps->total_count() == 0) return std::nullopt;
  double ttft_ms = double(ttft->value_at_percentile(50)) / 1000.0;
  double speed = double(tps->value_at_percentile(50));
  for (const RatingTier& t : tiers)
    if (ttft_ms < t.ttft_ms_below && speed > t.tokens_per_s_above) return t.name;
  return std::string("poor");
}

}  // namespace llmload
