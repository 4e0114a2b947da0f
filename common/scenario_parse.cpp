// YAML → Scenario: the top level and the targets. Every problem is collected, none stops the
// reading of the rest (see scenario_parse_ctx.h).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "common/env_expand.h"
#include "common/scenario.h"
#include "common/scenario_parse_ctx.h"
#include "common/target_series.h"

namespace llmload {

namespace scenario_parse {

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr double kMaxDouble = std::numeric_limits<double>::max();

bool valid_header_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// "http://host:8000/v1" → "host:8000".
std::string host_of(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

void parse_headers(Ctx& ctx, const YAML::Node& n, const std::string& path, Target& t) {
  if (!n.IsMap()) {
    ctx.error(n, path, "expected a map of header name → value");
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    const std::string hpath = path + "." + name;
    if (!valid_header_name(name)) {
      ctx.error(it->first, hpath, "not a valid HTTP header name");
      continue;
    }
    Header h;
    h.name = name;
    const YAML::Node v = it->second;
    if (v.IsMap()) {
      if (!ctx.expect_map(v, hpath, {"value", "secret"})) continue;
      if (!v["value"].IsDefined()) {
        ctx.error(v, hpath, "missing 'value'");
        continue;
      }
      auto s = ctx.str(v["value"], hpath + ".value");
      if (!s) continue;
      h.value_template = *s;
      if (v["secret"].IsDefined())
        h.secret = ctx.boolean(v["secret"], hpath + ".secret").value_or(false);
    } else {
      auto s = ctx.str(v, hpath);
      if (!s) continue;
      h.value_template = *s;
    }
    if (h.value_template.find_first_of("\r\n") != std::string::npos) {
      ctx.error(v, hpath, "a header value must not contain a line break");
      continue;
    }
    auto probe = expand_env(h.value_template, [](const std::string&) { return std::string(); });
    if (!probe) {
      ctx.error(v, hpath, probe.error());
      continue;
    }
    if (!probe->used.empty())
      h.secret = true;
    else
      h.value = probe->value;  // a literal ($$ already unescaped)
    t.headers.push_back(std::move(h));
  }
}

void parse_models(Ctx& ctx, const YAML::Node& n, const std::string& path, Target& t) {
  if (!n.IsSequence() || n.size() == 0) {
    ctx.error(n, path, "expected a non-empty list of model names or {name, weight}");
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    const YAML::Node m = n[i];
    ModelChoice c;
    if (m.IsMap()) {
      if (!ctx.expect_map(m, p, {"name", "weight"})) continue;
      if (!m["name"].IsDefined()) {
        ctx.error(m, p, "missing 'name'");
        continue;
      }
      c.name = ctx.str(m["name"], p + ".name").value_or("");
      if (m["weight"].IsDefined())
        c.weight = ctx.positive(m["weight"], p + ".weight", kMaxDouble).value_or(1);
    } else {
      c.name = ctx.str(m, p).value_or("");
    }
    if (!c.name.empty()) t.models.push_back(c);
  }
}

}  // namespace

void parse_target(Ctx& ctx, const YAML::Node& n, const std::string& path, Target& t) {
  if (!ctx.expect_map(n, path,
                      {"name", "url", "api", "model", "models", "weight", "headers", "timeouts",
                       "wait_ready", "tls", "stream_options", "metrics_url", "metrics"})) {
    return;
  }
  t.url = "mock";
  if (n["url"].IsDefined()) {
    if (auto u = ctx.str(n["url"], path + ".url")) {
      const bool http = u->rfind("http://", 0) == 0 || u->rfind("https://", 0) == 0;
      if (*u != "mock" && (!http || host_of(*u).empty())) {
        ctx.error(n["url"], path + ".url",
                  "expected mock or http(s)://host[:port][/prefix], got '" + *u + "'");
      }
      t.url = *u;
    }
  }
  t.name = t.is_mock() ? "mock" : host_of(t.url);
  if (n["name"].IsDefined()) {
    if (auto s = ctx.str(n["name"], path + ".name")) {
      if (s->empty()) ctx.error(n["name"], path + ".name", "must not be empty");
      t.name = *s;
    }
  }
  if (n["api"].IsDefined()) {
    if (auto a = ctx.choice(n["api"], path + ".api", api_names())) {
      t.api = *parse_api(*a);
    }
  }
  if (n["model"].IsDefined() && n["models"].IsDefined()) {
    ctx.error(n["models"], path + ".models", "give either model or models, not both");
  } else if (n["model"].IsDefined()) {
    if (auto m = ctx.str(n["model"], path + ".model")) {
      if (m->empty())
        ctx.error(n["model"], path + ".model", "must not be empty");
      else
        t.models.push_back({*m, 1});
    }
  } else if (n["models"].IsDefined()) {
    parse_models(ctx, n["models"], path + ".models", t);
  }
  if (n["weight"].IsDefined()) {
    t.weight = ctx.positive(n["weight"], path + ".weight", kMaxDouble).value_or(1);
  }
  if (n["headers"].IsDefined()) parse_headers(ctx, n["headers"], path + ".headers", t);
  if (const YAML::Node to = n["timeouts"]; to.IsDefined()) {
    const std::string p = path + ".timeouts";
    if (ctx.expect_map(to, p, {"connect", "ttft", "idle", "total"})) {
      auto set = [&](const char* k, int64_t& field) {
        if (to[k].IsDefined()) field = ctx.duration(to[k], p + "." + k, false).value_or(field);
      };
      set("connect", t.timeouts.connect_ns);
      set("ttft", t.timeouts.ttft_ns);
      set("idle", t.timeouts.idle_ns);
      set("total", t.timeouts.total_ns);
    }
  }
  if (n["wait_ready"].IsDefined()) {
    t.wait_ready_ns = ctx.duration(n["wait_ready"], path + ".wait_ready", true).value_or(0);
  }
  if (const YAML::Node tls = n["tls"]; tls.IsDefined()) {
    const std::string p = path + ".tls";
    if (ctx.expect_map(tls, p, {"ca_file", "cert_file", "key_file", "insecure"})) {
      auto file = [&](const char* k, std::string& field) {
        if (!tls[k].IsDefined()) return;
        if (auto s = ctx.str(tls[k], p + "." + k)) {
          field = ctx.resolve_path(*s);
          if (ctx.check_files && !std::filesystem::exists(field))
            ctx.error(tls[k], p + "." + k, "file not found: " + field);
        }
      };
      file("ca_file", t.tls.ca_file);
      file("cert_file", t.tls.cert_file);
      file("key_file", t.tls.key_file);
      if (tls["insecure"].IsDefined())
        t.tls.insecure = ctx.boolean(tls["insecure"], p + ".insecure").value_or(false);
      if (tls["cert_file"].IsDefined() != tls["key_file"].IsDefined()) {
        ctx.error(tls, p, "cert_file and key_file go together");
      }
    }
  }
  if (n["metrics_url"].IsDefined()) {
    if (auto u = ctx.str(n["metrics_url"], path + ".metrics_url")) {
      if (auto why = metrics_url_problem(*u))
        ctx.error(n["metrics_url"], path + ".metrics_url", *why);
      t.metrics_url = *u;
    }
  }
  if (const YAML::Node m = n["metrics"]; m.IsDefined()) {
    const std::string p = path + ".metrics";
    if (!m.IsSequence() || m.size() == 0 || m.size() > kMaxTargetSeries) {
      ctx.error(m, p, "expected a list of 1 to " + std::to_string(kMaxTargetSeries) +
                          " series names (metric names, name{labels} or prefix*)");
    } else {
      for (std::size_t i = 0; i < m.size(); ++i) {
        const std::string pi = p + "[" + std::to_string(i) + "]";
        auto name = ctx.str(m[i], pi);
        if (!name) continue;
        if (name->empty() || name->size() > kMaxTargetSeriesNameBytes)
          ctx.error(m[i], pi, "expected a series name of 1 to " +
                                  std::to_string(kMaxTargetSeriesNameBytes) + " bytes");
        else
          t.metrics.push_back(*name);
      }
    }
  }
  if (const YAML::Node so = n["stream_options"]; so.IsDefined()) {
    const std::string p = path + ".stream_options";
    if (ctx.expect_map(so, p, {"include_usage", "continuous_usage"})) {
      if (so["include_usage"].IsDefined())
        t.stream_options.include_usage =
            ctx.boolean(so["include_usage"], p + ".include_usage").value_or(true);
      if (so["continuous_usage"].IsDefined())
        t.stream_options.continuous_usage =
            ctx.boolean(so["continuous_usage"], p + ".continuous_usage").value_or(false);
    }
  }
}

namespace {

// `rating:` as a list of {name, ttft, tokens_per_s}, best first, or the --tiers text
// ("excellent:1s:100,good:2s:50,fair:4s:25"). A group below every tier is "poor".
void parse_rating(Ctx& ctx, const YAML::Node& n, std::vector<RatingTier>& out) {
  if (n.IsScalar()) {
    auto tiers = parse_rating_tiers(n.as<std::string>());
    if (!tiers)
      ctx.error(n, "rating", tiers.error());
    else
      out = *tiers;
    return;
  }
  if (!n.IsSequence() || n.size() == 0) {
    ctx.error(n, "rating",
              "expected a list of {name, ttft, tokens_per_s}, best first, or "
              "'excellent:1s:100,good:2s:50'");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = "rating[" + std::to_string(i) + "]";
    if (!ctx.expect_map(n[i], p, {"name", "ttft", "tokens_per_s"})) continue;
    RatingTier t;
    auto name = ctx.str(n[i]["name"], p + ".name");
    auto ttft = ctx.duration(n[i]["ttft"], p + ".ttft", false);
    auto tps = ctx.number(n[i]["tokens_per_s"], p + ".tokens_per_s", 0, 1e12);
    if (!name || !ttft || !tps) continue;
    if (name->empty() || *name == "poor") {
      ctx.error(n[i]["name"], p + ".name",
                "must be a non-empty name other than 'poor' (the tier below every other)");
      continue;
    }
    for (const RatingTier& seen : out)
      if (seen.name == *name) ctx.error(n[i]["name"], p + ".name", "'" + *name + "' twice");
    out.push_back({*name, double(*ttft) / 1e6, *tps});
  }
}

void parse_top(Ctx& ctx, const YAML::Node& root, Scenario& s) {
  if (!ctx.expect_map(root, "",
                      {"name", "description", "target", "targets", "load", "prompts", "output",
                       "slo", "sweep", "on_worker_loss", "pricing", "tags", "group_by", "seed",
                       "interval", "rating", "cancel"})) {
    return;
  }
  if (root["name"].IsDefined()) s.name = ctx.str(root["name"], "name").value_or(s.name);
  if (root["description"].IsDefined())
    s.description = ctx.str(root["description"], "description").value_or("");
  if (root["target"].IsDefined() && root["targets"].IsDefined()) {
    ctx.error(root["targets"], "targets", "give either target or targets, not both");
  } else if (root["target"].IsDefined()) {
    Target t;
    parse_target(ctx, root["target"], "target", t);
    s.targets.push_back(std::move(t));
  } else if (root["targets"].IsDefined()) {
    const YAML::Node ts = root["targets"];
    if (!ts.IsSequence() || ts.size() == 0) {
      ctx.error(ts, "targets", "expected a non-empty list of targets");
    } else {
      for (size_t i = 0; i < ts.size(); ++i) {
        Target t;
        parse_target(ctx, ts[i], "targets[" + std::to_string(i) + "]", t);
        s.targets.push_back(std::move(t));
      }
    }
  } else {
    ctx.error(root, "target", "missing: say where to send load (url: mock for the built-in mock)");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < s.targets.size(); ++i) {
    if (!names.insert(s.targets[i].name).second) {
      ctx.error(root["targets"][i], "targets[" + std::to_string(i) + "].name",
                "duplicate target name '" + s.targets[i].name + "' (give each target a name)");
    }
  }
  if (root["load"].IsDefined())
    parse_load(ctx, root["load"], s.load);
  else
    ctx.error(root, "load", "missing: give at least a limit (load.requests or load.duration)");
  if (root["prompts"].IsDefined()) parse_prompts(ctx, root["prompts"], s.prompts);
  if (s.load.mode == LoadMode::kRate && root["load"].IsMap() &&
      root["load"]["think_time"].IsDefined() &&
      s.prompts.kind != PromptSourceKind::kConversations) {
    ctx.error(root["load"]["think_time"], "load.think_time",
              "applies to mode concurrency, or to rate mode with source conversations (the "
              "pause before a session's next turn); rate mode schedules other starts itself");
  }
  if (root["output"].IsDefined()) parse_output(ctx, root["output"], s.output);
  if (root["cancel"].IsDefined()) parse_cancel(ctx, root["cancel"], s.cancel);
  if (root["slo"].IsDefined()) parse_slo(ctx, root["slo"], s.slo);
  if (root["sweep"].IsDefined()) parse_sweep(ctx, root["sweep"], s.sweep);
  if (root["on_worker_loss"].IsDefined()) {
    if (auto v = ctx.choice(root["on_worker_loss"], "on_worker_loss", {"continue", "stop"})) {
      s.on_worker_loss = *v == "stop" ? OnWorkerLoss::kStop : OnWorkerLoss::kContinue;
    }
  }
  if (const YAML::Node pr = root["pricing"]; pr.IsDefined()) {
    if (!pr.IsMap())
      ctx.error(pr, "pricing", "expected a map of model → {input_per_mtok, output_per_mtok}");
    for (auto it = pr.begin(); pr.IsMap() && it != pr.end(); ++it) {
      const std::string model = it->first.Scalar();
      const std::string p = "pricing." + model;
      if (!ctx.expect_map(it->second, p, {"input_per_mtok", "output_per_mtok"})) continue;
      Price price;
      if (it->second["input_per_mtok"].IsDefined())
        price.input_per_mtok =
            ctx.number(it->second["input_per_mtok"], p + ".input_per_mtok", 0, kMaxDouble)
                .value_or(0);
      if (it->second["output_per_mtok"].IsDefined())
        price.output_per_mtok =
            ctx.number(it->second["output_per_mtok"], p + ".output_per_mtok", 0, kMaxDouble)
                .value_or(0);
      s.pricing[model] = price;
    }
  }
  if (const YAML::Node tags = root["tags"]; tags.IsDefined()) {
    if (!tags.IsMap()) ctx.error(tags, "tags", "expected a map of label → value");
    for (auto it = tags.begin(); tags.IsMap() && it != tags.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "target" || key == "model") {
        ctx.error(it->first, "tags." + key, "reserved label (results are already grouped by it)");
        continue;
      }
      if (auto v = ctx.str(it->second, "tags." + key)) s.tags[key] = *v;
    }
  }
  if (const YAML::Node gb = root["group_by"]; gb.IsDefined()) {
    std::vector<std::string> keys;
    if (!gb.IsSequence()) ctx.error(gb, "group_by", "expected a list of label names, e.g. [model, task]");
    for (size_t i = 0; gb.IsSequence() && i < gb.size(); ++i) {
      const std::string p = "group_by[" + std::to_string(i) + "]";
      auto key = ctx.str(gb[i], p);
      if (!key) continue;
      if (*key != "target" && *key != "model") {
        if (auto why = label_name_problem(*key)) {
          ctx.error(gb[i], p, *why);
          continue;
        }
      }
      if (std::find(keys.begin(), keys.end(), *key) != keys.end()) {
        ctx.error(gb[i], p, "'" + *key + "' twice");
        continue;
      }
      keys.push_back(*key);
    }
    s.group_by = std::move(keys);
  }
  if (root["seed"].IsDefined()) {
    const YAML::Node seed = root["seed"];
    if (auto v = ctx.integer(seed, "seed", 0, kMaxInt)) s.seed = static_cast<uint64_t>(*v);
  }
  if (root["interval"].IsDefined()) {
    if (auto v = ctx.duration(root["interval"], "interval", false)) {
      if (*v < 100'000'000)
        ctx.error(root["interval"], "interval", "must be at least 100ms");
      else
        s.interval_ns = *v;
    }
  }
  if (root["rating"].IsDefined()) parse_rating(ctx, root["rating"], s.rating_tiers);
}

}  // namespace

Expected<Scenario> parse_text(std::string_view text, const std::string& display_name,
                              const std::string& base_dir, ParseOptions options) {
  Ctx ctx(display_name, base_dir);
  ctx.check_files = options.check_files;
  Scenario s;
  s.name = std::filesystem::path(display_name).stem().string();
  s.base_dir = base_dir;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    ctx.error_line(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "not valid YAML: " + e.msg);
    return Error{ctx.errors().front()};
  }
  if (!root.IsDefined() || root.IsNull()) return Error{display_name + ": empty scenario"};
  parse_top(ctx, root, s);
  std::vector<std::string> errors = ctx.errors();
  if (errors.empty() && options.check_model) {
    for (const std::string& e : check_scenario(s)) errors.push_back(display_name + ": " + e);
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Error{all};
  }
  // An embeddings API (a batch API) generates no reply: no length to warn about.
  const bool generates = std::any_of(s.targets.begin(), s.targets.end(), [](const Target& t) {
    return !api_descriptor(t.api).batches;
  });
  if (!s.output.max_tokens && generates && !s.load.trace) {  // a trace gives each row's output length
    s.warnings.push_back("output.max_tokens not set: the server decides how long each reply is");
  }
  return s;
}

Expected<Scenario> read_file(const std::string& path, bool check_model) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open the scenario file"};
  std::stringstream buf;
  buf << in.rdbuf();
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  auto s = parse_text(buf.str(), path, abs.parent_path().string(), {check_model, true});
  if (s) s->source_path = abs.lexically_normal().string();
  return s;
}

}  // namespace scenario_parse

Expected<Scenario> load_scenario(const std::string& path) {
  return scenario_parse::read_file(path, true);
}

Expected<Scenario> parse_scenario(std::string_view text, const std::string& display_name,
                                  const std::string& base_dir) {
  return scenario_parse::parse_text(text, display_name, base_dir, {});
}

}  // namespace llmload
