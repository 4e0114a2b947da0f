#include "common/scenario_parse_ctx.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "common/duration.h"

namespace llmload::scenario_parse {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string describe_node(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    default:
      return "nothing";
  }
}

template <class Names>
std::string join(const Names& xs) {
  std::string out;
  for (const auto& x : xs) {
    if (!out.empty()) out += ", ";
    out += x;
  }
  return out;
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  // Close enough to be a typo: at most a third of the word (at least 1, at most 3 edits).
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  return best_d <= limit ? best : "";
}

void Ctx::error(const YAML::Node& at, const std::string& path, const std::string& message) {
  int line = -1;
  if (at.IsDefined()) line = at.Mark().line;
  error_line(line >= 0 ? line + 1 : 0, path, message);
}

void Ctx::error_line(int line, const std::string& path, const std::string& message) {
  std::string e = file_;
  if (line > 0) e += ":" + std::to_string(line);
  e += ": ";
  if (!path.empty()) e += path + ": ";
  e += message;
  errors_.emplace_back(line, std::move(e));
}

std::vector<std::string> Ctx::errors() const {
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [line, e] : sorted) out.push_back(e);
  return out;
}

std::optional<double> Ctx::positive(const YAML::Node& n, const std::string& path, double max) {
  auto v = number(n, path, -std::numeric_limits<double>::max(), max);
  if (v && *v <= 0) {
    error(n, path, "must be greater than 0, got " + n.Scalar());
    return std::nullopt;
  }
  return v;
}

std::string Ctx::resolve_path(const std::string& p) const {
  std::filesystem::path path(p);
  if (path.is_absolute() || base_dir_.empty()) return path.lexically_normal().string();
  return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
}

bool Ctx::expect_map(const YAML::Node& node, const std::string& path,
                     std::initializer_list<const char*> known) {
  if (!node.IsMap()) {
    error(node, path, "expected a map with fields " + join(known) + ", got " + describe_node(node));
    return false;
  }
  std::vector<std::string> names(known.begin(), known.end());
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      error(it->first, path, "a field name must be a plain word");
      continue;
    }
    const std::string key = it->first.Scalar();
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    std::string msg = "unknown field";
    const std::string hint = closest_match(key, names);
    if (!hint.empty())
      msg += " (did you mean '" + hint + "'?)";
    else
      msg += " (known: " + join(known) + ")";
    error(it->first, path.empty() ? key : path + "." + key, msg);
  }
  return true;
}

std::optional<std::string> Ctx::str(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) {
    error(n, path, "expected a string, got " + describe_node(n));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<int64_t> Ctx::integer(const YAML::Node& n, const std::string& path, int64_t min,
                                    int64_t max) {
  if (!n.IsScalar()) {
    error(n, path, "expected an integer, got " + describe_node(n));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE) {
    error(n, path, "expected an integer, got '" + s + "'");
    return std::nullopt;
  }
  if (v < min || v > max) {
    std::string range = max == std::numeric_limits<int64_t>::max()
                            ? "at least " + std::to_string(min)
                            : "between " + std::to_string(min) + " and " + std::to_string(max);
    error(n, path, "out of range: " + s + " (must be " + range + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<double> Ctx::number(const YAML::Node& n, const std::string& path, double min,
                                  double max) {
  if (!n.IsScalar()) {
    error(n, path, "expected a number, got " + describe_node(n));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
    error(n, path, "expected a number, got '" + s + "'");
    return std::nullopt;
  }
  if (v < min || v > max) {
    char buf[128];
    if (max == std::numeric_limits<double>::max())
      std::snprintf(buf, sizeof buf, "at least %g", min);
    else
      std::snprintf(buf, sizeof buf, "between %g and %g", min, max);
    error(n, path, "out of range: " + s + " (must be " + buf + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Ctx::boolean(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no") return false;
  }
  error(n, path, "expected true or false, got " + describe_node(n));
  return std::nullopt;
}

std::optional<int64_t> Ctx::duration(const YAML::Node& n, const std::string& path,
                                     bool allow_zero) {
  if (!n.IsScalar()) {
    error(n, path, "expected a duration such as 30s, got " + describe_node(n));
    return std::nullopt;
  }
  if (n.Scalar() == "0") return allow_zero ? std::optional<int64_t>(0) : std::nullopt;
  auto d = parse_duration_ns(n.Scalar());
  if (!d) {
    error(n, path, d.error());
    return std::nullopt;
  }
  if (*d < 0 || (*d == 0 && !allow_zero)) {
    error(n, path, "must be greater than 0");
    return std::nullopt;
  }
  return *d;
}

std::optional<std::string> Ctx::choice(const YAML::Node& n, const std::string& path,
                                       std::initializer_list<const char*> choices) {
  const std::vector<std::string_view> names(choices.begin(), choices.end());
  return choice(n, path, std::span<const std::string_view>(names));
}

std::optional<std::string> Ctx::choice(const YAML::Node& n, const std::string& path,
                                       std::span<const std::string_view> choices) {
  auto s = str(n, path);
  if (!s) return std::nullopt;
  std::vector<std::string> names(choices.begin(), choices.end());
  if (std::find(names.begin(), names.end(), *s) != names.end()) return s;
  std::string msg = "unknown value '" + *s + "'";
  const std::string hint = closest_match(*s, names);
  if (!hint.empty())
    msg += " (did you mean '" + hint + "'?)";
  else
    msg += " (one of: " + join(choices) + ")";
  error(n, path, msg);
  return std::nullopt;
}

std::optional<Distribution> Ctx::distribution(const YAML::Node& n, const std::string& path,
                                              bool durations) {
  const size_t errors_before = errors_.size();  // NOLINT
  auto value = [&](const YAML::Node& v, const std::string& p) -> std::optional<double> {
    if (durations) {
      auto d = duration(v, p, true);
      return d ? std::optional<double>(double(*d)) : std::nullopt;
    }
    return number(v, p, 0, 1e12);
  };
  if (n.IsScalar()) {
    auto v = value(n, path);
    return v ? std::optional<Distribution>(Distribution::fixed(*v)) : std::nullopt;
  }
  if (!expect_map(n, path, {"dist", "value", "min", "max", "mean", "stddev"})) return std::nullopt;
  const YAML::Node kind_node = n["dist"];
  if (!kind_node.IsDefined()) {
    error(n, path, "missing 'dist' (fixed, uniform, normal or lognormal)");
    return std::nullopt;
  }
  auto kind = choice(kind_node, path + ".dist", {"fixed", "uniform", "normal", "lognormal"});
  if (!kind) return std::nullopt;
  auto field = [&](const char* name, bool required) -> std::optional<double> {
    const YAML::Node f = n[name];
    if (!f.IsDefined()) {
      if (required) error(n, path, std::string("missing '") + name + "' for dist " + *kind);
      return std::nullopt;
    }
    return value(f, path + "." + name);
  };
  auto forbid = [&](const char* name) {
    if (n[name].IsDefined()) {
      error(n[name], path + "." + name, "does not apply to dist " + *kind);
    }
  };
  Distribution d;
  if (*kind == "fixed") {
    forbid("min"), forbid("max"), forbid("mean"), forbid("stddev");
    auto v = field("value", true);
    if (v) d = Distribution::fixed(*v);
  } else if (*kind == "uniform") {
    forbid("value"), forbid("mean"), forbid("stddev");
    auto lo = field("min", true);
    auto hi = field("max", true);
    if (lo && hi) {
      if (*lo > *hi) error(n["max"], path + ".max", "must not be less than min");
      d = Distribution::uniform(*lo, *hi);
    }
  } else {
    forbid("value");
    auto mean = field("mean", true);
    auto sd = field("stddev", true);
    auto lo = field("min", false);
    auto hi = field("max", false);
    if (mean && sd) {
      d = *kind == "normal" ? Distribution::normal(*mean, *sd)
                            : Distribution::lognormal(*mean, *sd);
      if (*kind == "lognormal" && *mean <= 0) {
        error(n["mean"], path + ".mean", "must be greater than 0 for lognormal");
      }
      if (lo) d.min = *lo;
      if (hi) d.max = *hi, d.has_max = true;
      if (lo && hi && *lo > *hi) error(n["max"], path + ".max", "must not be less than min");
    }
  }
  if (errors_.size() != errors_before) return std::nullopt;
  return d;
}

nlohmann::json Ctx::to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const YAML::Node& x : n) a.push_back(to_json(x));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (auto it = n.begin(); it != n.end(); ++it)
        o[it->first.as<std::string>()] = to_json(it->second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: a string as written
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      char* end = nullptr;
      const long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size()) return i;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) return d;
      return s;
    }
    default:
      return nullptr;
  }
}

}  // namespace llmload::scenario_parse
