// Internal to the scenario parser (scenario_parse*.cpp): the context that collects every error
// with file, line and field path, and typed readers over yaml-cpp nodes. Not a public API.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/distribution.h"
#include "common/scenario.h"

namespace llmload::scenario_parse {

// The closest candidate within a small edit distance, or "" (for "did you mean").
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

class Ctx {
 public:
  Ctx(std::string display_name, std::string base_dir)
      : file_(std::move(display_name)), base_dir_(std::move(base_dir)) {}

  // `file:line: path: message`; the line comes from `at` (1-based), or is left out if unknown.
  void error(const YAML::Node& at, const std::string& path, const std::string& message);
  void error_line(int line, const std::string& path, const std::string& message);
  // Every error so far, in line order (stable: same-line errors keep their order).
  std::vector<std::string> errors() const;
  const std::string& file() const { return file_; }
  // False for a scenario received over the wire: its files live on the coordinator's machine.
  bool check_files = true;
  // A path from the file, made absolute against the scenario's directory.
  std::string resolve_path(const std::string& p) const;

  // Checks that `node` is a map and that each key is one of `known`; reports the others with a
  // suggestion. Returns false (after reporting) when `node` is not a map.
  bool expect_map(const YAML::Node& node, const std::string& path,
                  std::initializer_list<const char*> known);

  // Typed scalars. Each reports a type or range error and returns nullopt.
  std::optional<std::string> str(const YAML::Node& n, const std::string& path);
  std::optional<int64_t> integer(const YAML::Node& n, const std::string& path, int64_t min,
                                 int64_t max);
  std::optional<double> number(const YAML::Node& n, const std::string& path, double min,
                               double max);
  // A number > 0 (weights, rates), at most `max`.
  std::optional<double> positive(const YAML::Node& n, const std::string& path, double max);
  std::optional<bool> boolean(const YAML::Node& n, const std::string& path);
  // A duration ("50ms"); `allow_zero` false requires > 0.
  std::optional<int64_t> duration(const YAML::Node& n, const std::string& path, bool allow_zero);
  // One of `choices`; reports the closest otherwise.
  std::optional<std::string> choice(const YAML::Node& n, const std::string& path,
                                    std::initializer_list<const char*> choices);
  std::optional<std::string> choice(const YAML::Node& n, const std::string& path,
                                    std::span<const std::string_view> choices);
  // A distribution: a scalar (fixed) or {dist, value, min, max, mean, stddev}. With
  // `durations`, values are durations converted to ns; else non-negative numbers.
  std::optional<Distribution> distribution(const YAML::Node& n, const std::string& path,
                                           bool durations);
  // Any YAML value as JSON (quoted scalars stay strings; plain ones become numbers, booleans
  // or null where they read as such).
  nlohmann::json to_json(const YAML::Node& n);

 private:
  std::string file_;
  std::string base_dir_;
  std::vector<std::pair<int, std::string>> errors_;  // (line, message)
};

// Section readers: each reports into `ctx` and fills what it could read.
void parse_target(Ctx& ctx, const YAML::Node& n, const std::string& path, Target& t);
void parse_load(Ctx& ctx, const YAML::Node& n, Load& load);
void parse_prompts(Ctx& ctx, const YAML::Node& n, PromptSource& p);
void parse_output(Ctx& ctx, const YAML::Node& n, Output& o);
void parse_cancel(Ctx& ctx, const YAML::Node& n, Cancel& c);
void parse_slo(Ctx& ctx, const YAML::Node& n, Slo& slo);
void parse_sweep(Ctx& ctx, const YAML::Node& n, Sweep& sweep);

struct ParseOptions {
  bool check_model = true;  // run check_scenario() too (off when overrides come next)
  bool check_files = true;  // check that referenced files exist (off for the wire form)
};
Expected<Scenario> parse_text(std::string_view text, const std::string& display_name,
                              const std::string& base_dir, ParseOptions options);
Expected<Scenario> read_file(const std::string& path, bool check_model);

}  // namespace llmload::scenario_parse
