#include "common/load_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "common/json_fields.h"

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

namespace {

std::vector<int64_t> ones(std::size_t n) {
  return std::vector<int64_t>(n, 1);
}

// 1 for each part above zero; all ones when none is.
std::vector<int64_t> active(const std::vector<double>& peak) {
  std::vector<int64_t> w(peak.size(), 0);
  bool any = false;
  for (std::size_t i = 0; i < peak.size(); ++i) {
    if (peak[i] > 0) w[i] = 1, any = true;
  }
  return any ? w : ones(peak.size());
}

}  // namespace

std::vector<LoadShare> split_load(const Load& load, const std::vector<int64_t>& loops_per_worker,
                                  uint64_t seed) {
  const std::size_t n = loops_per_worker.size();
  std::vector<LoadShare> shares(n);
  if (n == 0) return shares;
  std::vector<int64_t> loops;
  for (int64_t l : loops_per_worker) loops.push_back(std::max<int64_t>(l, 1));
  const int64_t total_loops = std::accumulate(loops.begin(), loops.end(), int64_t{0});
  const auto L = static_cast<std::size_t>(total_loops);
  const bool open = load.mode == LoadMode::kRate;

  // Per loop of the run: the flat level and each stage's.
  std::vector<double> level(L, 0.0), peak(L, 0.0);
  std::vector<std::vector<double>> stage_levels(L);
  if (open) {
    level = split_rate(load.rate, ones(L));
    for (const Stage& st : load.stages) {
      const auto part = split_rate(st.rate, ones(L));
      for (std::size_t g = 0; g < L; ++g) stage_levels[g].push_back(part[g]);
    }
  } else {
    const auto flat = split_integer(load.concurrency, ones(L));
    for (std::size_t g = 0; g < L; ++g) level[g] = static_cast<double>(flat[g]);
    for (const Stage& st : load.stages) {
      const auto part = split_integer(st.concurrency, ones(L));
      for (std::size_t g = 0; g < L; ++g) stage_levels[g].push_back(static_cast<double>(part[g]));
    }
  }
  for (std::size_t g = 0; g < L; ++g) {
    peak[g] = level[g];
    for (double s : stage_levels[g]) peak[g] = std::max(peak[g], s);
  }
  // The budget: by each loop's peak users (closed loop) or evenly over loops with a rate.
  std::vector<int64_t> budget_weights = active(peak);
  if (!open) {
    for (std::size_t g = 0; g < L; ++g) {
      if (budget_weights[g] > 0 && peak[g] > 0)
        budget_weights[g] = std::llround(std::ceil(peak[g]));
    }
  }
  const auto budget =
      load.requests > 0 ? split_integer(load.requests, budget_weights) : std::vector<int64_t>(L, 0);
  // Everyone keeps at least one slot: a cap of 0 would mean "no cap".
  const auto caps = open && load.max_in_flight > 0 ? split_integer(load.max_in_flight, ones(L))
                                                   : std::vector<int64_t>(L, 0);

  std::size_t g = 0;
  int64_t first_request = 0;  // the budgets of the loops before, added up
  for (std::size_t i = 0; i < n; ++i) {
    LoadShare& s = shares[i];
    s.index = static_cast<int>(i);
    s.count = static_cast<int>(n);
    s.loop_count = static_cast<int>(total_loops);
    s.fraction = static_cast<double>(loops[i]) / static_cast<double>(total_loops);
    s.mode = load.mode;
    s.arrival = load.arrival;
    for (const Stage& st : load.stages) s.stage_ns.push_back(st.duration_ns);
    s.warmup_ns = load.warmup_ns;
    s.duration_ns = load.duration_ns;
    s.has_request_limit = load.requests > 0;
    s.run_requests = std::max<int64_t>(load.requests, 0);
    s.grace_ns = load.grace_ns;
    s.think_time = load.think_time;
    for (int64_t k = 0; k < loops[i]; ++k, ++g) {
      LoopShare l;
      l.index = static_cast<int>(g);
      l.level = level[g];
      l.stage_levels = stage_levels[g];
      l.requests = budget[g];
      l.first_request = first_request;
      first_request += budget[g];
      l.max_in_flight = caps[g] > 0 ? caps[g] : (open && load.max_in_flight > 0 ? 1 : 0);
      if (open && load.arrival == Arrival::kConstant && load.rate > 0) {
        l.first_arrival_offset_ns =
            static_cast<int64_t>(std::llround(1e9 * static_cast<double>(g) / load.rate));
      }
      l.seed = seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(g);
      s.loops.push_back(std::move(l));
    }
  }
  return shares;
}

double LoadShare::level() const {
  double sum = 0;
  for (const LoopShare& l : loops) sum += l.level;
  return sum;
}

int64_t LoadShare::requests() const {
  int64_t sum = 0;
  for (const LoopShare& l : loops) sum += l.requests;
  return sum;
}

namespace {

const char* dist_kind_name(DistKind k) {
  switch (k) {
    case DistKind::kFixed:
      return "fixed";
    case DistKind::kUniform:
      return "uniform";
    case DistKind::kNormal:
      return "normal";
    case DistKind::kLognormal:
      return "lognormal";
  }
  return "fixed";
}

nlohmann::json dist_to_json(const Distribution& d) {
  return nlohmann::json{{"kind", dist_kind_name(d.kind)},
                        {"value", d.value},
                        {"mean", d.mean},
                        {"stddev", d.stddev},
                        {"min", d.min},
                        {"max", d.max},
                        {"has_max", d.has_max}};
}

nlohmann::json loop_to_json(const LoopShare& l) {
  return nlohmann::json{{"index", l.index},
                        {"level", l.level},
                        {"stage_levels", l.stage_levels},
                        {"requests", l.requests},
                        {"first_request", l.first_request},
                        {"max_in_flight", l.max_in_flight},
                        {"first_arrival_offset_ns", l.first_arrival_offset_ns},
                        {"seed", l.seed}};
}

}  // namespace

nlohmann::json LoadShare::to_json() const {
  nlohmann::json ls = nlohmann::json::array();
  for (const LoopShare& l : loops) ls.push_back(loop_to_json(l));
  return nlohmann::json{{"index", index},
                        {"count", count},
                        {"loop_count", loop_count},
                        {"fraction", fraction},
                        {"mode", mode == LoadMode::kConcurrency ? "concurrency" : "rate"},
                        {"arrival", arrival == Arrival::kPoisson ? "poisson" : "constant"},
                        {"stage_ns", stage_ns},
                        {"warmup_ns", warmup_ns},
                        {"duration_ns", duration_ns},
                        {"has_request_limit", has_request_limit},
                        {"run_requests", run_requests},
                        {"grace_ns", grace_ns},
                        {"think_time", dist_to_json(think_time)},
                        {"loops", std::move(ls)}};
}

namespace {

namespace jf = json_fields;

// A number in [0, max] at `path`.
double bounded(const nlohmann::json& v, const std::string& path, double max) {
  const double d = jf::number(v, path);
  if (d < 0 || d > max) jf::fail(path, "out of range [0, " + std::to_string(max) + "]");
  return d;
}

// The largest level a loop may be given: concurrency up to 1e8, a rate up to 1e9 per second.
double level_max(LoadMode mode) {
  return mode == LoadMode::kConcurrency ? 1e8 : 1e9;
}

Distribution dist_from_json(const nlohmann::json& v, const std::string& path) {
  jf::object(v, path);
  Distribution d;
  const std::string& k = jf::string(jf::member(v, "kind", path), jf::sub(path, "kind"), 16);
  if (k == "fixed")
    d.kind = DistKind::kFixed;
  else if (k == "uniform")
    d.kind = DistKind::kUniform;
  else if (k == "normal")
    d.kind = DistKind::kNormal;
  else if (k == "lognormal")
    d.kind = DistKind::kLognormal;
  else
    jf::fail(jf::sub(path, "kind"), "not fixed, uniform, normal or lognormal");
  constexpr double kWeekNs = 6.048e14;  // far beyond any think time a scenario may hold
  for (auto [key, out] : {std::pair{"value", &d.value},
                          {"mean", &d.mean},
                          {"stddev", &d.stddev},
                          {"min", &d.min},
                          {"max", &d.max}}) {
    *out = bounded(jf::member(v, key, path), jf::sub(path, key), kWeekNs);
  }
  d.has_max = jf::boolean(jf::member(v, "has_max", path), jf::sub(path, "has_max"));
  return d;
}

LoopShare loop_from_json(const nlohmann::json& v, const std::string& path, LoadMode mode,
                         std::size_t stages, int loop_count) {
  jf::object(v, path);
  auto field = [&](const char* key) -> const nlohmann::json& { return jf::member(v, key, path); };
  LoopShare l;
  l.index = static_cast<int>(jf::count(field("index"), jf::sub(path, "index"), loop_count - 1));
  l.level = bounded(field("level"), jf::sub(path, "level"), level_max(mode));
  const std::string sl_path = jf::sub(path, "stage_levels");
  const auto& sl = jf::array(field("stage_levels"), sl_path);
  if (sl.size() != stages) jf::fail(sl_path, "not one level per stage");
  for (std::size_t k = 0; k < sl.size(); ++k) {
    l.stage_levels.push_back(bounded(sl[k], jf::index(sl_path, k), level_max(mode)));
  }
  l.requests = jf::count(field("requests"), jf::sub(path, "requests"), INT64_MAX);
  l.first_request = jf::count(field("first_request"), jf::sub(path, "first_request"), INT64_MAX);
  l.max_in_flight = jf::count(field("max_in_flight"), jf::sub(path, "max_in_flight"), 100'000'000);
  l.first_arrival_offset_ns = jf::count(field("first_arrival_offset_ns"),
                                        jf::sub(path, "first_arrival_offset_ns"), INT64_MAX);
  const auto& seed = field("seed");
  if (!seed.is_number_unsigned()) jf::fail(jf::sub(path, "seed"), "not an unsigned integer");
  l.seed = seed.get<uint64_t>();
  return l;
}

LoadShare share_from_json(const nlohmann::json& v) {
  const std::string path = "share";
  jf::object(v, path);
  auto field = [&](const char* key) -> const nlohmann::json& { return jf::member(v, key, path); };
  auto at = [&](const char* key) { return jf::sub(path, key); };
  LoadShare s;
  s.count = static_cast<int>(jf::count(field("count"), at("count"), 1'000'000));
  if (s.count < 1) jf::fail(at("count"), "not at least 1");
  s.index = static_cast<int>(jf::count(field("index"), at("index"), s.count - 1));
  s.loop_count = static_cast<int>(jf::count(field("loop_count"), at("loop_count"), 1'000'000'000));
  if (s.loop_count < 1) jf::fail(at("loop_count"), "not at least 1");
  s.fraction = bounded(field("fraction"), at("fraction"), 1);
  const std::string& mode = jf::string(field("mode"), at("mode"), 16);
  if (mode == "concurrency")
    s.mode = LoadMode::kConcurrency;
  else if (mode == "rate")
    s.mode = LoadMode::kRate;
  else
    jf::fail(at("mode"), "neither 'concurrency' nor 'rate'");
  const std::string& arrival = jf::string(field("arrival"), at("arrival"), 16);
  if (arrival == "constant")
    s.arrival = Arrival::kConstant;
  else if (arrival == "poisson")
    s.arrival = Arrival::kPoisson;
  else
    jf::fail(at("arrival"), "neither 'constant' nor 'poisson'");
  const auto& st = jf::array(field("stage_ns"), at("stage_ns"));
  if (st.size() > kMaxStages) jf::fail(at("stage_ns"), "more than 10000 stages");
  for (std::size_t k = 0; k < st.size(); ++k) {
    s.stage_ns.push_back(jf::count(st[k], jf::index(at("stage_ns"), k), INT64_MAX));
    if (s.stage_ns.back() <= 0) jf::fail(jf::index(at("stage_ns"), k), "not a positive length");
  }
  s.warmup_ns = jf::count(field("warmup_ns"), at("warmup_ns"), INT64_MAX);
  s.duration_ns = jf::count(field("duration_ns"), at("duration_ns"), INT64_MAX);
  s.has_request_limit = jf::boolean(field("has_request_limit"), at("has_request_limit"));
  s.run_requests = jf::count(field("run_requests"), at("run_requests"), INT64_MAX);
  s.grace_ns = jf::count(field("grace_ns"), at("grace_ns"), INT64_MAX);
  s.think_time = dist_from_json(field("think_time"), at("think_time"));
  const auto& loops = jf::array(field("loops"), at("loops"));
  if (loops.empty() || loops.size() > kMaxLoops) jf::fail(at("loops"), "not 1 to 4096 loop shares");
  for (std::size_t k = 0; k < loops.size(); ++k) {
    s.loops.push_back(loop_from_json(loops[k], jf::index(at("loops"), k), s.mode, s.stage_ns.size(),
                                     s.loop_count));
  }
  return s;
}

}  // namespace

Expected<LoadShare> LoadShare::from_json(const nlohmann::json& j) {
  try {
    return share_from_json(j);
  } catch (const json_fields::FieldError& e) {
    return Error{e.what()};
  }
}

}  // namespace llmload
