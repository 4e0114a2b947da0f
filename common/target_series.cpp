#include "common/target_series.h"

#include <algorithm>
#include <cmath>

namespace llmload {
namespace {

bool preset_series(const PromSample& s) {
  if (s.name.ends_with("_bucket")) return false;
  for (const auto& p : kTargetMetricsPresets)
    if (s.name.starts_with(p.prefix)) return true;
  return false;
}

bool listed(const PromSample& s, const std::string& series,
            const std::vector<std::string>& wanted) {
  for (const std::string& w : wanted) {
    if (w.ends_with('*')) {
      if (series.starts_with(std::string_view(w).substr(0, w.size() - 1))) return true;
    } else if (w == s.name || w == series) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::map<std::string, double> select_target_series(const PromPage& page,
                                                   const std::vector<std::string>& wanted) {
  std::map<std::string, double> out;
  for (const PromSample& s : page.samples) {
    if (out.size() >= kMaxTargetSeries) break;
    if (!std::isfinite(s.value)) continue;
    std::string series = s.series();
    if (series.size() > kMaxTargetSeriesNameBytes) continue;
    if (wanted.empty() ? !preset_series(s) : !listed(s, series, wanted)) continue;
    out.emplace(std::move(series), s.value);
  }
  return out;
}

std::string_view series_metric(std::string_view series) {
  return series.substr(0, series.find('{'));
}

void SeriesStats::add(double v) {
  if (samples == 0) {
    min = max = first = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  last = v;
  sum += v;
  ++samples;
}

void TargetMetrics::add(const std::map<std::string, double>& sample) {
  for (const auto& [name, v] : sample) {
    auto it = series.find(name);
    if (it == series.end() && series.size() >= kMaxTargetSeries) continue;
    series[name].add(v);
  }
}

std::optional<double> TargetMetrics::counter_delta(std::string_view name) const {
  std::optional<double> out;
  for (const auto& [s, st] : series) {
    if (series_metric(s) != name) continue;
    out = out.value_or(0) + (st.last - st.first);
  }
  return out;
}

std::optional<double> TargetMetrics::server_output_tokens() const {
  for (std::string_view c : kServerTokenCounters)
    if (auto d = counter_delta(c)) return d;
  return std::nullopt;
}

std::optional<double> TargetMetrics::energy_joules() const {
  auto mj = counter_delta(kEnergyCounterMj);
  if (!mj) return std::nullopt;
  return *mj / 1000.0;
}

}  // namespace llmload
