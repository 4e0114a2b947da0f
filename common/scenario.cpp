#include "common/scenario.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/conversation.h"
#include "common/duration.h"
#include "common/env_expand.h"
#include "common/scenario_parse_ctx.h"

namespace llmload {

namespace {

using nlohmann::json;

json dist_json(const Distribution& d, bool durations) {
  auto v = [&](double x) -> json {
    if (durations) return format_duration_ns(static_cast<int64_t>(x));
    return x;
  };
  if (d.kind == DistKind::kFixed) return v(d.value);
  json j;
  switch (d.kind) {
    case DistKind::kFixed:
      break;
    case DistKind::kUniform:
      j = {{"dist", "uniform"}, {"min", v(d.min)}, {"max", v(d.max)}};
      break;
    case DistKind::kNormal:
    case DistKind::kLognormal:
      j = {{"dist", d.kind == DistKind::kNormal ? "normal" : "lognormal"},
           {"mean", v(d.mean)},
           {"stddev", v(d.stddev)}};
      if (d.min != 0) j["min"] = v(d.min);
      if (d.has_max) j["max"] = v(d.max);
      break;
  }
  return j;
}

// Exact: a duration that the short form would round is written in nanoseconds.
std::string dur(int64_t ns) {
  std::string s = format_duration_ns(ns);
  auto back = parse_duration_ns(s);
  if (back.ok() && *back == ns) return s;
  return std::to_string(ns) + "ns";
}

// A resolved secret travels as a literal: `$` doubled so that nothing in it expands again.
std::string escape_dollars(const std::string& v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

json target_json(const Target& t, JsonMode mode) {
  json j = {{"name", t.name}, {"url", t.url}, {"api", std::string(api_name(t.api))}};
  if (t.models.size() == 1 && t.models[0].weight == 1) {
    j["model"] = t.models[0].name;
  } else if (!t.models.empty()) {
    json ms = json::array();
    for (const ModelChoice& m : t.models) ms.push_back({{"name", m.name}, {"weight", m.weight}});
    j["models"] = ms;
  }
  j["weight"] = t.weight;
  if (!t.headers.empty()) {
    json hs = json::object();
    for (const Header& h : t.headers) {
      if (!h.secret)
        hs[h.name] = h.value_template;
      else if (mode == JsonMode::kRedacted)
        hs[h.name] = "***";
      else
        hs[h.name] = {{"value", escape_dollars(h.value)}, {"secret", true}};
    }
    j["headers"] = hs;
  }
  j["timeouts"] = {{"connect", dur(t.timeouts.connect_ns)},
                   {"ttft", dur(t.timeouts.ttft_ns)},
                   {"idle", dur(t.timeouts.idle_ns)},
                   {"total", dur(t.timeouts.total_ns)}};
  if (t.wait_ready_ns > 0) j["wait_ready"] = dur(t.wait_ready_ns);
  json tls = {{"insecure", t.tls.insecure}};
  if (!t.tls.ca_file.empty()) tls["ca_file"] = t.tls.ca_file;
  if (!t.tls.cert_file.empty()) tls["cert_file"] = t.tls.cert_file;
  if (!t.tls.key_file.empty()) tls["key_file"] = t.tls.key_file;
  j["tls"] = tls;
  j["stream_options"] = {{"include_usage", t.stream_options.include_usage},
                         {"continuous_usage", t.stream_options.continuous_usage}};
  if (!t.metrics_url.empty()) j["metrics_url"] = t.metrics_url;
  if (!t.metrics.empty()) j["metrics"] = t.metrics;
  return j;
}

json load_json(const Load& l) {
  if (l.trace) {
    json j = {{"trace",
               {{"file", l.trace->file},
                {"format", trace_format_name(l.trace->format)},
                {"speed", l.trace->speed},
                {"loop", l.trace->loop}}}};
    if (l.duration_ns > 0) j["duration"] = dur(l.duration_ns);
    j["warmup"] = dur(l.warmup_ns);
    j["grace"] = dur(l.grace_ns);
    if (l.max_in_flight > 0) j["max_in_flight"] = l.max_in_flight;
    return j;
  }
  const bool rate = l.mode == LoadMode::kRate;
  json j = {{"mode", rate ? "rate" : "concurrency"}};
  if (l.stages.empty()) {
    if (rate)
      j["rate"] = l.rate;
    else
      j["concurrency"] = l.concurrency;
  }
  if (rate) j["arrival"] = l.arrival == Arrival::kPoisson ? "poisson" : "constant";
  if (!l.stages.empty()) {
    json st = json::array();
    for (const Stage& s : l.stages) {
      json x = {{"duration", dur(s.duration_ns)}};
      if (rate)
        x["rate"] = s.rate;
      else
        x["concurrency"] = s.concurrency;
      st.push_back(x);
    }
    j["stages"] = st;
  }
  if (l.duration_ns > 0) j["duration"] = dur(l.duration_ns);
  if (l.requests > 0) j["requests"] = l.requests;
  j["warmup"] = dur(l.warmup_ns);
  j["grace"] = dur(l.grace_ns);
  if (rate && l.max_in_flight > 0) j["max_in_flight"] = l.max_in_flight;
  if (!rate || !l.think_time.is_zero()) j["think_time"] = dist_json(l.think_time, true);
  return j;
}

json item_json(const InlinePrompt& p) {
  if (!p.turns.empty()) {
    json ts = json::array();
    for (const Turn& t : p.turns) ts.push_back({{"user", t.user}, {"reply", t.recorded_reply}});
    json j = {{"turns", ts}};
    if (!p.labels.empty()) j["labels"] = p.labels;
    return j;
  }
  if (p.messages.empty() && !p.max_tokens && p.labels.empty()) return p.text;
  json j = json::object();
  if (p.messages.empty()) {
    j["text"] = p.text;
  } else {
    json ms = json::array();
    for (const Message& m : p.messages) ms.push_back({{"role", m.role}, {"content", m.content}});
    j["messages"] = ms;
  }
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (!p.labels.empty()) j["labels"] = p.labels;
  return j;
}

json prompts_json(const PromptSource& p) {
  using K = PromptSourceKind;
  json j = {{"source", std::string(prompt_source_name(p.kind))}};
  if (!p.items.empty()) {
    json items = json::array();
    for (const InlinePrompt& it : p.items) items.push_back(item_json(it));
    j["items"] = items;
  }
  if (!p.file.empty()) j["file"] = p.file;
  if (!p.system.empty()) j["system"] = p.system;
  if (p.kind != K::kSynthetic) {
    j["sampling"] = p.sampling == Sampling::kShuffle      ? "shuffle"
                    : p.sampling == Sampling::kSequential ? "sequential"
                                                          : "random";
  }
  if (p.limit > 0) j["limit"] = p.limit;
  if (p.kind == K::kShareGpt) j["output_from_reply"] = p.output_from_reply;
  if (p.kind == K::kSynthetic) {
    j["input_tokens"] = dist_json(p.input_tokens, false);
    j["shared_prefix_tokens"] = p.shared_prefix_tokens;
  }
  j["unique_prefix"] = p.unique_prefix;
  if (!p.tokenizer.empty()) j["tokenizer"] = p.tokenizer;
  if (p.kind == K::kConversations) {
    j["history"] = p.history == History::kLive ? "live" : "recorded";
    j["history_max_bytes"] = p.history_max_bytes;
    j["sticky"] = p.sticky;
  }
  return j;
}

json slo_json(const Slo& s) {
  json j = json::object();
  json r = json::object();
  if (s.request.ttft_ns) r["ttft"] = dur(*s.request.ttft_ns);
  if (s.request.ttfo_ns) r["ttfo"] = dur(*s.request.ttfo_ns);
  if (s.request.tpot_ns) r["tpot"] = dur(*s.request.tpot_ns);
  if (s.request.itl_ns) r["itl"] = dur(*s.request.itl_ns);
  if (s.request.e2e_ns) r["e2e"] = dur(*s.request.e2e_ns);
  if (!r.empty()) j["request"] = r;
  if (!s.asserts.empty()) {
    json a = json::array();
    for (const SloAssertion& x : s.asserts) {
      // The text already says abort_on_fail when it was written inline.
      const bool inline_abort = x.text.find("abort_on_fail") != std::string::npos;
      if (x.abort_on_fail && !inline_abort)
        a.push_back({{"expr", x.text}, {"abort_on_fail", true}});
      else
        a.push_back(x.text);
    }
    j["assert"] = a;
  }
  return j;
}

json sweep_json(const Sweep& s) {
  switch (s.kind) {
    case SweepKind::kNone:
      return nullptr;
    case SweepKind::kConcurrency:
      return {{"concurrency", s.concurrency}};
    case SweepKind::kRate:
      return {{"rate", s.rate}};
    case SweepKind::kSearch:
      return {{"search",
               {{"mode", s.search_mode == LoadMode::kRate ? "rate" : "concurrency"},
                {"min", s.search_min},
                {"max", s.search_max},
                {"factor", s.search_factor},
                {"precision", s.search_precision}}}};
  }
  return nullptr;
}

}  // namespace

std::string_view prompt_source_name(PromptSourceKind kind) {
  switch (kind) {
    case PromptSourceKind::kInline:
      return "inline";
    case PromptSourceKind::kJsonl:
      return "jsonl";
    case PromptSourceKind::kShareGpt:
      return "sharegpt";
    case PromptSourceKind::kSynthetic:
      return "synthetic";
    case PromptSourceKind::kConversations:
      return "conversations";
  }
  return "?";
}

std::vector<std::string> check_scenario(const Scenario& s) {
  std::vector<std::string> errors;
  if (s.targets.empty()) errors.push_back("target: no target");
  for (size_t i = 0; i < s.targets.size(); ++i) {
    const Target& t = s.targets[i];
    const std::string p = "targets[" + std::to_string(i) + "] (" + t.name + ")";
    if (t.models.empty()) errors.push_back(p + ": no model (set model: or pass --model)");
    if (!(t.weight > 0)) errors.push_back(p + ": weight must be greater than 0");
    if (!t.metrics.empty() && t.metrics_url.empty())
      errors.push_back(p + ": metrics: needs metrics_url (or --target-metrics)");
    if (t.metrics_url == "mock" && !t.is_mock())
      errors.push_back(p + ": metrics_url mock needs url mock (the built-in mock)");
    if (!t.metrics_url.empty() && metrics_target(s) != &t)
      errors.push_back(p + ": metrics_url: only one target's /metrics can be scraped");
    if (s.output.batch > 1 && !api_descriptor(t.api).batches)
      errors.push_back("output.batch: " + p + ": api " + std::string(api_name(t.api)) +
                       " takes one input per request (batches: openai-embeddings)");
  }
  const Load& l = s.load;
  if (l.trace) {
    // The trace is the load: it ends at its last row (a looped one needs a duration).
    if (l.trace->loop && l.duration_ns <= 0)
      errors.push_back("load.trace.loop: a looped trace needs load.duration (or it never ends)");
    if (l.requests > 0) errors.push_back("load.requests: not with load.trace");
    if (l.mode != LoadMode::kRate || l.rate > 0 || !l.stages.empty())
      errors.push_back(
          "load: a trace sets when each request starts: no concurrency, rate or stages with "
          "load.trace");
  } else if (l.duration_ns <= 0 && l.requests <= 0) {
    errors.push_back(
        "load: no end: set load.duration or load.requests (a load generator never runs without "
        "an end)");
  }
  if (l.stages.empty() && !l.trace) {
    if (l.mode == LoadMode::kConcurrency && l.concurrency < 1)
      errors.push_back("load.concurrency: must be at least 1");
    if (l.mode == LoadMode::kRate && !(l.rate > 0))
      errors.push_back("load.rate: must be greater than 0");
  }
  if (s.interval_ns < 100'000'000) errors.push_back("interval: must be at least 100ms");
  if (!s.pricing.empty() && !groups_by(s, "model"))
    errors.push_back("group_by: pricing is per model: with pricing, group_by must keep model");
  return errors;
}

std::optional<std::string> metrics_url_problem(std::string_view url) {
  if (url == "mock") return std::nullopt;
  if (url.starts_with("https://"))
    return "https is not supported for a metrics URL (scrape an http endpoint)";
  const std::string_view rest = url.starts_with("http://") ? url.substr(7) : std::string_view{};
  const std::string_view host = rest.substr(0, rest.find('/'));
  if (host.empty() || host.find('@') != std::string_view::npos ||
      url.find_first_of("?# ") != std::string_view::npos) {
    return "expected http://host[:port][/path] or mock, got '" + std::string(url) + "'";
  }
  return std::nullopt;
}

const Target* metrics_target(const Scenario& s) {
  for (const Target& t : s.targets)
    if (!t.metrics_url.empty()) return &t;
  return nullptr;
}

nlohmann::json scenario_to_json(const Scenario& s, JsonMode mode) {
  json j = {{"name", s.name}};
  if (!s.description.empty()) j["description"] = s.description;
  json ts = json::array();
  for (const Target& t : s.targets) ts.push_back(target_json(t, mode));
  j["targets"] = ts;
  j["load"] = load_json(s.load);
  j["prompts"] = prompts_json(s.prompts);
  json out = {{"ignore_eos", s.output.ignore_eos}};
  if (s.output.max_tokens) out["max_tokens"] = dist_json(*s.output.max_tokens, false);
  if (s.output.temperature) out["temperature"] = *s.output.temperature;
  if (!s.output.extra.empty()) out["extra"] = s.output.extra;
  if (!s.output.stream) out["stream"] = false;
  if (s.output.batch != 1) out["batch"] = s.output.batch;
  j["output"] = out;
  if (s.cancel.enabled())
    j["cancel"] = {{"share", s.cancel.share}, {"after", dist_json(s.cancel.after, true)}};
  json slo = slo_json(s.slo);
  if (!slo.empty()) j["slo"] = slo;
  json sweep = sweep_json(s.sweep);
  if (!sweep.is_null()) j["sweep"] = sweep;
  j["on_worker_loss"] = s.on_worker_loss == OnWorkerLoss::kStop ? "stop" : "continue";
  if (!s.pricing.empty()) {
    json pr = json::object();
    for (const auto& [model, p] : s.pricing)
      pr[model] = {{"input_per_mtok", p.input_per_mtok}, {"output_per_mtok", p.output_per_mtok}};
    j["pricing"] = pr;
  }
  if (!s.tags.empty()) j["tags"] = s.tags;
  if (s.group_by) j["group_by"] = *s.group_by;
  j["seed"] = s.seed;
  j["interval"] = dur(s.interval_ns);
  if (!s.rating_tiers.empty()) {
    json tiers = json::array();
    for (const RatingTier& t : s.rating_tiers)
      tiers.push_back({{"name", t.name},
                       {"ttft", dur(int64_t(std::llround(t.ttft_ms_below * 1e6)))},
                       {"tokens_per_s", t.tokens_per_s_above}});
    j["rating"] = tiers;
  }
  return j;
}

Expected<Scenario> scenario_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return Error{"scenario: expected a JSON object"};
  // JSON is YAML: one parser, one set of checks. A string that is not UTF-8 cannot be dumped.
  std::string text;
  try {
    text = j.dump();
  } catch (const nlohmann::json::type_error&) {
    return Error{"scenario: a string is not valid UTF-8"};
  }
  auto s = scenario_parse::parse_text(text, "scenario", "", {true, false});
  if (!s) return s;
  // Secret values arrive resolved, as literals ({"value", "secret"}): the parser already made
  // them the values to send.
  s->warnings.clear();
  return s;
}

std::vector<std::string> resolve_secrets(Scenario& s, bool strict) {
  std::vector<std::string> errors;
  const EnvLookup env = process_env();
  for (Target& t : s.targets) {
    for (Header& h : t.headers) {
      auto e = expand_env(h.value_template, env);
      if (!e) {
        errors.push_back("target " + t.name + ": header " + h.name + ": " + e.error());
        continue;
      }
      if (e->used.empty()) continue;  // a literal (possibly marked secret in the file)
      h.secret = true;
      h.value = e->value;
      for (const std::string& var : e->missing) {
        const std::string msg = "target " + t.name + ": header " + h.name +
                                ": environment variable " + var + " is not set";
        if (strict)
          errors.push_back(msg);
        else
          s.warnings.push_back(msg);
      }
    }
  }
  return errors;
}

std::optional<std::string> label_name_problem(std::string_view name) {
  if (name.empty()) return "empty label name";
  if (name.size() > 64) return "label name longer than 64 bytes";
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(name[0])) return "label name must start with a letter or '_'";
  for (char c : name)
    if (!letter(c) && !digit(c)) return "label name may hold only letters, digits and '_'";
  if (name.starts_with("__")) return "label names starting with '__' are reserved";
  if (name == "target" || name == "model") return "reserved label (results are grouped by it)";
  return std::nullopt;
}

std::optional<std::string> row_labels_problem(const Labels& labels) {
  if (labels.size() > kRowLabelsMax)
    return "more than " + std::to_string(kRowLabelsMax) + " labels";
  for (const auto& [k, v] : labels) {
    if (auto why = label_name_problem(k)) return "label '" + std::string(utf8_prefix(k, 64)) + "': " + *why;
    if (v.size() > kRowLabelValueMax)
      return "label " + k + ": value longer than " + std::to_string(kRowLabelValueMax) + " bytes";
    if (std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      return "label " + k + ": value holds a control character";
    try {
      (void)nlohmann::json(v).dump();
    } catch (const nlohmann::json::exception&) {
      return "label " + k + ": value is not UTF-8";
    }
  }
  return std::nullopt;
}

bool groups_by(const Scenario& s, std::string_view key) {
  if (!s.group_by) return true;
  return std::find(s.group_by->begin(), s.group_by->end(), key) != s.group_by->end();
}

Labels grouped_row_labels(const Scenario& s, const Labels& row) {
  if (!s.group_by) return row;
  Labels out;
  for (const auto& [k, v] : row)
    if (groups_by(s, k)) out.emplace(k, v);
  return out;
}

Labels group_labels(const Scenario& s, const Target& target, const ModelChoice& model,
                    const Labels& prompt_labels) {
  Labels labels(s.tags.begin(), s.tags.end());
  if (groups_by(s, "target")) labels["target"] = target.name;
  if (groups_by(s, "model")) labels["model"] = model.name;
  for (const auto& [k, v] : prompt_labels) labels[k] = v;
  return labels;
}

std::vector<Labels> scenario_group_labels(const Scenario& s,
                                          const std::vector<ResolvedPrompt>& prompts) {
  std::vector<Labels> row_sets;
  for (const ResolvedPrompt& p : prompts) {
    // A conversation's turns each have their own set (the `turn` label, common/conversation.h).
    const size_t turns = std::max<size_t>(1, std::min(p.turns.size(), kTurnLabelMax));
    for (size_t t = 0; t < turns; ++t) {
      Labels l = prompt_turn_labels(s, p, t);
      if (std::find(row_sets.begin(), row_sets.end(), l) == row_sets.end())
        row_sets.push_back(std::move(l));
    }
  }
  if (row_sets.empty()) row_sets.emplace_back();
  std::vector<Labels> out;
  for (const Target& t : s.targets) {
    for (const ModelChoice& m : t.models) {
      for (const Labels& row : row_sets) {
        Labels l = group_labels(s, t, m, row);
        if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(std::move(l));
      }
    }
  }
  return out;
}

std::vector<std::string> check_group_by(const Scenario& s,
                                        const std::vector<ResolvedPrompt>& prompts) {
  std::vector<std::string> errors;
  if (!s.group_by) return errors;
  std::set<std::string> known = {"target", "model"};
  for (const auto& [k, v] : s.tags) known.insert(k);
  if (has_turn_label(s, prompts)) known.insert(std::string(kTurnLabel));
  std::set<std::string> rows;
  for (const ResolvedPrompt& p : prompts)
    for (const auto& [k, v] : p.labels) rows.insert(k);
  for (const std::string& name : *s.group_by) {
    if (known.count(name) || rows.count(name)) continue;
    // (Only the prompts' grouped labels are kept, so the others cannot be listed here.)
    errors.push_back("group_by: '" + name +
                     "' is not a label of this run: not target, model, a tag, or a label on any "
                     "of its prompts");
  }
  return errors;
}

}  // namespace llmload
