#include "common/load_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace llmload {

std::vector<int64_t> split_integer(int64_t total, const std::vector<int64_t>& weights) {
  std::vector<int64_t> parts(weights.size(), 0);
  if (weights.empty() || total <= 0) return parts;
  long double wsum = 0;
  for (int64_t w : weights) wsum += static_cast<long double>(std::max<int64_t>(w, 0));
  if (wsum <= 0) {
    // No weight anywhere: an even split.
    std::vector<int64_t> even(weights.size(), 1);
    return split_integer(total, even);
  }
  std::vector<std::pair<long double, std::size_t>> remainders;
  remainders.reserve(weights.size());
  int64_t assigned = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    long double exact = static_cast<long double>(total) * std::max<int64_t>(weights[i], 0) / wsum;
    auto whole = static_cast<int64_t>(std::floor(exact));
    parts[i] = whole;
    assigned += whole;
    remainders.emplace_back(exact - whole, i);
  }
  // Largest remainder first; ties to the lower index.
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; assigned < total; k = (k + 1) % remainders.size()) {
    ++parts[remainders[k].second];
    ++assigned;
  }
  return parts;
}

std::vector<double> split_rate(double total, const std::vector<int64_t>& weights) {
  std::vector<double> parts(weights.size(), 0.0);
  if (weights.empty() || !(total > 0)) return parts;
  double wsum = 0;
  for (int64_t w : weights) wsum += static_cast<double>(std::max<int64_t>(w, 0));
  double given = 0;
  for (std::size_t i = 0; i + 1 < weights.size(); ++i) {
    parts[i] = wsum > 0 ? total * static_cast<double>(std::max<int64_t>(weights[i], 0)) / wsum
                        : total / static_cast<double>(weights.size());
    given += parts[i];
  }
  parts.back() = std::max(0.0, total - given);
  return parts;
}

std::vector<LoadShare> split_load(const Load& load, const std::vector<int64_t>& weights) {
  const std::size_t n = weights.size();
  std::vector<LoadShare> shares(n);
  if (n == 0) return shares;
  int64_t wsum = 0;
  for (int64_t w : weights) wsum += std::max<int64_t>(w, 1);
  std::vector<int64_t> w1;
  for (int64_t w : weights) w1.push_back(std::max<int64_t>(w, 1));

  for (std::size_t i = 0; i < n; ++i) {
    shares[i].index = static_cast<int>(i);
    shares[i].count = static_cast<int>(n);
    shares[i].fraction = static_cast<double>(w1[i]) / static_cast<double>(wsum);
    shares[i].mode = load.mode;
  }

  std::vector<int64_t> budget_weights = w1;
  if (load.mode == LoadMode::kConcurrency) {
    auto flat = split_integer(load.concurrency, w1);
    std::vector<int64_t> peak = flat;
    for (std::size_t i = 0; i < n; ++i) shares[i].concurrency = flat[i];
    for (const Stage& st : load.stages) {
      auto part = split_integer(st.concurrency, w1);
      for (std::size_t i = 0; i < n; ++i) {
        shares[i].stage_concurrency.push_back(part[i]);
        peak[i] = std::max(peak[i], part[i]);
      }
    }
    if (std::accumulate(peak.begin(), peak.end(), int64_t{0}) > 0) budget_weights = peak;
  } else {
    auto flat = split_rate(load.rate, w1);
    for (std::size_t i = 0; i < n; ++i) shares[i].rate = flat[i];
    for (const Stage& st : load.stages) {
      auto part = split_rate(st.rate, w1);
      for (std::size_t i = 0; i < n; ++i) shares[i].stage_rate.push_back(part[i]);
    }
    if (load.max_in_flight > 0) {
      // Everyone keeps at least one slot: a cap of 0 would mean "no cap".
      auto caps = split_integer(load.max_in_flight, w1);
      for (std::size_t i = 0; i < n; ++i) shares[i].max_in_flight = std::max<int64_t>(caps[i], 1);
    }
    if (load.arrival == Arrival::kConstant && load.rate > 0) {
      for (std::size_t i = 0; i < n; ++i) {
        shares[i].first_arrival_offset_ns =
            static_cast<int64_t>(std::llround(1e9 * static_cast<double>(i) / load.rate));
      }
    }
  }
  if (load.requests > 0) {
    auto budgets = split_integer(load.requests, budget_weights);
    for (std::size_t i = 0; i < n; ++i) shares[i].requests = budgets[i];
  }
  return shares;
}

nlohmann::json LoadShare::to_json() const {
  return nlohmann::json{{"index", index},
                        {"count", count},
                        {"fraction", fraction},
                        {"mode", mode == LoadMode::kConcurrency ? "concurrency" : "rate"},
                        {"concurrency", concurrency},
                        {"rate", rate},
                        {"stage_concurrency", stage_concurrency},
                        {"stage_rate", stage_rate},
                        {"requests", requests},
                        {"max_in_flight", max_in_flight},
                        {"first_arrival_offset_ns", first_arrival_offset_ns}};
}

namespace {

Error field_error(const char* field, const char* what) {
  return Error{std::string("share.") + field + ": " + what};
}

bool get_int(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi, int64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
    v = static_cast<int64_t>(it->get<uint64_t>());
  } else {
    v = it->get<int64_t>();
  }
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

bool get_double(const nlohmann::json& j, const char* key, double lo, double hi, double& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return false;
  double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) return false;
  out = v;
  return true;
}

}  // namespace

Expected<LoadShare> LoadShare::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return Error{"share: not an object"};
  LoadShare s;
  int64_t v = 0;
  if (!get_int(j, "count", 1, 1'000'000, v)) return field_error("count", "not an integer >= 1");
  s.count = static_cast<int>(v);
  if (!get_int(j, "index", 0, s.count - 1, v)) return field_error("index", "not in [0, count)");
  s.index = static_cast<int>(v);
  if (!get_double(j, "fraction", 0, 1, s.fraction)) {
    return field_error("fraction", "not a number in [0, 1]");
  }
  auto mode = j.find("mode");
  if (mode == j.end() || !mode->is_string()) return field_error("mode", "not a string");
  if (*mode == "concurrency") {
    s.mode = LoadMode::kConcurrency;
  } else if (*mode == "rate") {
    s.mode = LoadMode::kRate;
  } else {
    return field_error("mode", "neither 'concurrency' nor 'rate'");
  }
  if (!get_int(j, "concurrency", 0, 100'000'000, s.concurrency)) {
    return field_error("concurrency", "not an integer in [0, 1e8]");
  }
  if (!get_double(j, "rate", 0, 1e9, s.rate)) return field_error("rate", "not a rate in [0, 1e9]");
  if (!get_int(j, "requests", 0, INT64_MAX, s.requests)) {
    return field_error("requests", "not a non-negative integer");
  }
  if (!get_int(j, "max_in_flight", 0, 100'000'000, s.max_in_flight)) {
    return field_error("max_in_flight", "not an integer in [0, 1e8]");
  }
  if (!get_int(j, "first_arrival_offset_ns", 0, INT64_MAX, s.first_arrival_offset_ns)) {
    return field_error("first_arrival_offset_ns", "not a non-negative integer");
  }
  auto sc = j.find("stage_concurrency");
  if (sc == j.end() || !sc->is_array() || sc->size() > kMaxStages) {
    return field_error("stage_concurrency", "not an array of at most 10000 levels");
  }
  for (const auto& e : *sc) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > 100'000'000) {
      return field_error("stage_concurrency", "holds a level that is not an integer in [0, 1e8]");
    }
    s.stage_concurrency.push_back(e.get<int64_t>());
  }
  auto sr = j.find("stage_rate");
  if (sr == j.end() || !sr->is_array() || sr->size() > kMaxStages) {
    return field_error("stage_rate", "not an array of at most 10000 rates");
  }
  for (const auto& e : *sr) {
    if (!e.is_number() || !std::isfinite(e.get<double>()) || e.get<double>() < 0 ||
        e.get<double>() > 1e9) {
      return field_error("stage_rate", "holds a rate that is not a number in [0, 1e9]");
    }
    s.stage_rate.push_back(e.get<double>());
  }
  return s;
}

}  // namespace llmload
