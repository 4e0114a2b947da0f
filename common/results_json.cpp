// summary.json writer and validating reader. Layout: DESIGN.md "Results", docs/results.md.
#include "common/results_json.h"

#include <cmath>

#include "common/atomic_file.h"
#include "common/json_fields.h"
#include "common/results_json_run.h"

namespace llmload {
namespace {

using nlohmann::json;  // for the public functions at the end
namespace jf = json_fields;

}  // namespace

// ------------------------------------------------------- shared with results_json_run.cpp

namespace summary_json {

using nlohmann::json;
namespace jf = json_fields;

template <class J>
J counters_json(const Counters& c) {
  return J{{"requests", c.requests},
           {"ok", c.ok},
           {"failed", c.failed},
           {"client_cancelled", c.client_cancelled},
           {"retries", c.retries},
           {"input_tokens", c.input_tokens},
           {"output_tokens", c.output_tokens},
           {"tokens_from_usage", c.tokens_from_usage},
           {"tokens_counted", c.tokens_counted},
           {"tokens_tokenized", c.tokens_tokenized},
           {"goodput", c.goodput},
           {"dropped", c.dropped},
           {"bytes_received", c.bytes_received},
           {"tokens_mismatch", c.tokens_mismatch},
           {"inputs", c.inputs}};
}

void read_counters(const json& v, const std::string& path, Counters& c, bool extras_required) {
  jf::object(v, path);
  struct Field {
    const char* name;
    int64_t Counters::*field;
    bool required;
  };
  const Field fields[] = {{"requests", &Counters::requests, true},
                          {"ok", &Counters::ok, true},
                          {"failed", &Counters::failed, true},
                          {"client_cancelled", &Counters::client_cancelled, false},
                          {"retries", &Counters::retries, true},
                          {"input_tokens", &Counters::input_tokens, true},
                          {"output_tokens", &Counters::output_tokens, true},
                          {"tokens_from_usage", &Counters::tokens_from_usage, extras_required},
                          {"tokens_counted", &Counters::tokens_counted, extras_required},
                          {"tokens_tokenized", &Counters::tokens_tokenized, false},
                          {"goodput", &Counters::goodput, extras_required},
                          {"dropped", &Counters::dropped, extras_required},
                          {"bytes_received", &Counters::bytes_received, extras_required},
                          {"tokens_mismatch", &Counters::tokens_mismatch, false},
                          {"inputs", &Counters::inputs, false}};
  for (const auto& f : fields) {
    const json* m = jf::optional_member(v, f.name);
    if (!m) {
      if (f.required) jf::fail(jf::sub(path, f.name), "missing");
      continue;
    }
    c.*(f.field) = jf::count(*m, jf::sub(path, f.name));
  }
  if (c.requests != c.ok + c.failed + c.client_cancelled) {
    jf::fail(jf::sub(path, "requests"),
             "is not ok + failed + client_cancelled (" + std::to_string(c.ok) + " + " +
                 std::to_string(c.failed) + " + " + std::to_string(c.client_cancelled) + ")");
  }
  if (c.goodput > c.ok) jf::fail(jf::sub(path, "goodput"), "greater than ok");
  if (c.tokens_mismatch > c.ok) jf::fail(jf::sub(path, "tokens_mismatch"), "greater than ok");
  if (const json* pc = jf::optional_member(v, "prefix_cache")) {
    const std::string pp = jf::sub(path, "prefix_cache");
    jf::object(*pc, pp);
    c.cached_tokens = jf::count(jf::member(*pc, "cached_tokens", pp), jf::sub(pp, "cached_tokens"));
    c.cache_prompt_tokens =
        jf::count(jf::member(*pc, "prompt_tokens", pp), jf::sub(pp, "prompt_tokens"));
    if (c.cached_tokens > c.cache_prompt_tokens)
      jf::fail(jf::sub(pp, "cached_tokens"), "greater than prompt_tokens");
  }
}

bool close_enough(double stated, double actual) {
  return std::fabs(stated - actual) <= 1e-9 * std::max(1.0, std::fabs(actual));
}

template nlohmann::json counters_json<nlohmann::json>(const Counters&);
template nlohmann::ordered_json counters_json<nlohmann::ordered_json>(const Counters&);

}  // namespace summary_json

namespace {

using namespace summary_json;

// ------------------------------------------------------------------------------------ writer

template <class J>
J optional_number(const std::optional<double>& v) {
  return v ? J(*v) : J(nullptr);
}

// The target's /metrics over the run (docs/results.md "target"); output_tokens: ours.
template <class J>
J target_json(const TargetMetrics& t, int64_t output_tokens) {
  const std::optional<double> energy = t.energy_joules();
  std::optional<double> per_joule;
  if (energy && *energy > 0) per_joule = double(output_tokens) / *energy;
  J j{{"metrics_url", t.url},
      {"scrapes", t.scrapes},
      {"failed_scrapes", t.failed},
      {"server_output_tokens", optional_number<J>(t.server_output_tokens())},
      {"energy_j", optional_number<J>(energy)},
      {"output_tokens_per_joule", optional_number<J>(per_joule)}};
  if (!t.first_error.empty()) j["first_error"] = t.first_error;
  return j;
}

template <class J>
J target_series_json(const TargetMetrics& t) {
  J j = J::object();
  for (const auto& [name, st] : t.series) {
    j[name] = J{{"samples", st.samples}, {"min", st.min},   {"mean", st.mean()},
                {"max", st.max},         {"first", st.first}, {"last", st.last}};
  }
  return j;
}



template <class J>
J totals_json(const Counters& c, double duration_s, const std::optional<double>& cost) {
  J t = counters_json<J>(c);
  auto rate = [&](int64_t n) { return duration_s > 0 ? double(n) / duration_s : 0.0; };
  t["requests_per_s"] = rate(c.requests);
  t["output_tokens_per_s"] = rate(c.output_tokens);
  t["input_tokens_per_s"] = rate(c.input_tokens);
  t["inputs_per_s"] = rate(c.inputs);
  t["goodput_per_s"] = rate(c.goodput);
  t["error_rate"] = c.requests > 0 ? double(c.failed) / double(c.requests) : 0.0;
  t["goodput_ratio"] = c.ok > 0 ? double(c.goodput) / double(c.ok) : 0.0;
  t["cost_usd"] = optional_number<J>(cost);
  t["prefix_cache"] = J{{"cached_tokens", c.cached_tokens},
                        {"prompt_tokens", c.cache_prompt_tokens},
                        {"hit_rate", optional_number<J>(c.prefix_cache_hit_rate())}};
  return t;
}

// Every kind, zero counts included, so readers can index any kind without a presence check.
template <class J>
J errors_json(const GroupStats& g) {
  J out = J::object();
  for (ErrorKind k : kAllErrorKinds) {
    out[std::string(name(k))] = J{{"count", g.counters.errors[static_cast<std::size_t>(k)]},
                                  {"samples", g.error_samples(k)}};
  }
  return out;
}

template <class J>
J metric_json(const MetricSummary& s, bool is_time) {
  // Non-time statistics other than mean/stddev are whole units: written as integers.
  auto stat = [&](double v) { return is_time ? J(v) : J(static_cast<int64_t>(v)); };
  return J{{"unit", s.unit},         {"hdr_unit", s.hdr_unit},
           {"count", s.count},       {"min", stat(s.min)},
           {"mean", s.mean},         {"stddev", s.stddev},
           {"p50", stat(s.p50)},     {"p90", stat(s.p90)},
           {"p95", stat(s.p95)},     {"p99", stat(s.p99)},
           {"p999", stat(s.p999)},   {"max", stat(s.max)},
           {"overflow", s.overflow}, {"hdr", s.hdr}};
}

template <class J>
J metrics_json(const GroupStats& g) {
  J out = J::object();
  for (const MetricSummary& s : summarize_all(g)) {
    out[s.name] = metric_json<J>(s, units_of_name(s.name)->is_time);
  }
  return out;
}

// ------------------------------------------------------------------------------------ reader


std::optional<double> read_optional_number(const json& v, const std::string& path) {
  if (v.is_null()) return std::nullopt;
  return jf::number(v, path);
}

// Errors object into g (counts into counters.errors, samples); the counts must add up to failed.
void read_errors(const json& v, const std::string& path, GroupStats& g) {
  jf::object(v, path);
  int64_t sum = 0;
  for (const auto& [k, e] : v.items()) {
    std::string p = jf::sub(path, k);
    auto kind = parse_error_kind(k);
    if (!kind) jf::fail(p, "unknown error kind");
    int64_t n = jf::count(jf::member(e, "count", p), jf::sub(p, "count"));
    g.counters.errors[static_cast<std::size_t>(*kind)] = n;
    sum += n;
    if (const json* samples = jf::optional_member(e, "samples")) {
      std::string sp = jf::sub(p, "samples");
      jf::array(*samples, sp);
      for (std::size_t i = 0; i < samples->size(); ++i) {
        g.add_error_sample(*kind, jf::string((*samples)[i], jf::index(sp, i)));
      }
    }
  }
  if (sum != g.counters.failed) {
    jf::fail(path, "error counts add up to " + std::to_string(sum) + ", not to failed (" +
                       std::to_string(g.counters.failed) + ")");
  }
}

// One metrics entry: checks units, decodes `hdr`, checks it against the stated statistics, and
// adds the histogram to g.
void read_metric(const std::string& metric_name, const json& v, const std::string& path,
                 GroupStats& g) {
  jf::object(v, path);
  auto units = units_of_name(metric_name);
  if (!units) jf::fail(path, "unknown metric");
  const std::string& unit = jf::string(jf::member(v, "unit", path), jf::sub(path, "unit"));
  if (unit != units->unit) {
    jf::fail(jf::sub(path, "unit"),
             "\"" + unit + "\", expected \"" + std::string(units->unit) + "\"");
  }
  const std::string& hdr_unit =
      jf::string(jf::member(v, "hdr_unit", path), jf::sub(path, "hdr_unit"));
  if (hdr_unit != units->hdr_unit) {
    jf::fail(jf::sub(path, "hdr_unit"),
             "\"" + hdr_unit + "\", expected \"" + std::string(units->hdr_unit) + "\"");
  }
  int64_t count = jf::count(jf::member(v, "count", path), jf::sub(path, "count"));
  int64_t overflow = 0;
  if (const json* o = jf::optional_member(v, "overflow")) {
    overflow = jf::count(*o, jf::sub(path, "overflow"));
  }
  std::string hdr_path = jf::sub(path, "hdr");
  const std::string& hdr = jf::string(jf::member(v, "hdr", path), hdr_path, 64u << 20);
  auto h = HdrHistogram::from_base64(hdr);
  if (!h) jf::fail(hdr_path, "not a valid histogram (" + h.error() + ")");
  if (!has_expected_settings(*h, *units)) {
    jf::fail(hdr_path, "histogram settings " + std::to_string(h->lowest_discernible()) + ".." +
                           std::to_string(h->highest_trackable()) + "/" +
                           std::to_string(h->significant_digits()) + " are not " + metric_name +
                           "'s");
  }
  if (h->total_count() != count) {
    jf::fail(hdr_path, "holds " + std::to_string(h->total_count()) + " values, but count says " +
                           std::to_string(count));
  }
  // The stated statistics must be the histogram's own (the number contract).
  MetricSummary actual = summarize(*h, metric_name, *units, overflow);
  const std::pair<const char*, double> stats[] = {
      {"min", actual.min},   {"max", actual.max},   {"p50", actual.p50},
      {"p90", actual.p90},   {"p95", actual.p95},   {"p99", actual.p99},
      {"p999", actual.p999}, {"mean", actual.mean}, {"stddev", actual.stddev}};
  for (const auto& [stat, value] : stats) {
    std::string p = jf::sub(path, stat);
    double stated = jf::number(jf::member(v, stat, path), p);
    if (!close_enough(stated, value)) {
      jf::fail(p, "is " + json(stated).dump() + " but the histogram gives " + json(value).dump());
    }
  }
  g.add_histogram(metric_name, *h, overflow);
}

// totals + errors + metrics (+ labels for a group) into a GroupStats.
GroupStats read_stats(const json& node, const std::string& prefix, std::optional<double>& cost,
                      const std::string& totals_key) {
  GroupStats g;
  std::string tp = jf::sub(prefix, totals_key);
  const json& totals = jf::member(node, totals_key, prefix);
  read_counters(totals, tp, g.counters, false);
  cost = read_optional_number(jf::member(totals, "cost_usd", tp), jf::sub(tp, "cost_usd"));
  read_errors(jf::member(node, "errors", prefix), jf::sub(prefix, "errors"), g);
  if (const json* ms = jf::optional_member(node, "tokens_mismatch_samples")) {
    const std::string sp = jf::sub(prefix, "tokens_mismatch_samples");
    jf::array(*ms, sp);
    for (std::size_t i = 0; i < ms->size(); ++i) {
      g.add_mismatch_sample(jf::string((*ms)[i], jf::index(sp, i)));
    }
  }
  std::string mp = jf::sub(prefix, "metrics");
  const json& metrics = jf::object(jf::member(node, "metrics", prefix), mp);
  for (const auto& [n, v] : metrics.items()) read_metric(n, v, jf::sub(mp, n), g);
  return g;
}

TargetMetrics read_target(const json& t, const json& root) {
  jf::object(t, "target");
  TargetMetrics out;
  out.url = jf::string(jf::member(t, "metrics_url", "target"), "target.metrics_url");
  out.scrapes = jf::count(jf::member(t, "scrapes", "target"), "target.scrapes");
  out.failed = jf::count(jf::member(t, "failed_scrapes", "target"), "target.failed_scrapes");
  if (const json* e = jf::optional_member(t, "first_error"))
    out.first_error = jf::string(*e, "target.first_error");
  const json* series = jf::optional_member(root, "target_metrics");
  if (!series) return out;
  for (const auto& [name, v] : jf::object(*series, "target_metrics").items()) {
    const std::string p = jf::sub("target_metrics", name);
    jf::object(v, p);
    SeriesStats st;
    st.samples = jf::count(jf::member(v, "samples", p), jf::sub(p, "samples"));
    st.min = jf::number(jf::member(v, "min", p), jf::sub(p, "min"));
    st.max = jf::number(jf::member(v, "max", p), jf::sub(p, "max"));
    st.first = jf::number(jf::member(v, "first", p), jf::sub(p, "first"));
    st.last = jf::number(jf::member(v, "last", p), jf::sub(p, "last"));
    st.sum = jf::number(jf::member(v, "mean", p), jf::sub(p, "mean")) * double(st.samples);
    out.series.emplace(name, st);
  }
  return out;
}

RunResult read_result(const json& j) {
  jf::object(j, "");
  const std::string& schema = jf::string(jf::member(j, "schema", ""), "schema");
  if (schema != kSummarySchema) {
    jf::fail("schema", "\"" + schema + "\" is not supported (this llmload reads \"" +
                           std::string(kSummarySchema) + "\")");
  }
  RunResult result;
  result.run = read_run(jf::member(j, "run", ""));
  result.total = read_stats(j, "", result.cost_usd, "totals");

  const json& groups = jf::array(jf::member(j, "groups", ""), "groups");
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::string gp = jf::index("groups", i);
    jf::object(groups[i], gp);
    GroupResult gr;
    gr.stats = read_stats(groups[i], gp, gr.cost_usd, "totals");
    std::string lp = jf::sub(gp, "labels");
    for (const auto& [k, val] : jf::object(jf::member(groups[i], "labels", gp), lp).items()) {
      gr.stats.labels.emplace(k, jf::string(val, jf::sub(lp, k)));
    }
    result.groups.push_back(std::move(gr));
  }

  // Absent in a summary written before findings existed: none.
  if (const json* findings = jf::optional_member(j, "findings")) {
    const json& a = jf::array(*findings, "findings");
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string fp = jf::index("findings", i);
      const json& f = jf::object(a[i], fp);
      auto str = [&](const char* key) {
        return jf::string(jf::member(f, key, fp), jf::sub(fp, key));
      };
      Finding out{str("rule"), str("severity"), str("message"),
                  jf::object(jf::member(f, "evidence", fp), jf::sub(fp, "evidence")),
                  str("advice")};
      if (out.severity != "warning" && out.severity != "info")
        jf::fail(jf::sub(fp, "severity"), "not warning or info");
      result.findings.push_back(std::move(out));
    }
  }

  if (const json* t = jf::optional_member(j, "target")) result.target = read_target(*t, j);
  const json& assertions = jf::array(jf::member(j, "assertions", ""), "assertions");
  for (std::size_t i = 0; i < assertions.size(); ++i) {
    std::string ap = jf::index("assertions", i);
    const json& a = jf::object(assertions[i], ap);
    AssertionResult ar;
    ar.expr = jf::string(jf::member(a, "expr", ap), jf::sub(ap, "expr"));
    ar.value = read_optional_number(jf::member(a, "value", ap), jf::sub(ap, "value"));
    ar.passed = jf::boolean(jf::member(a, "passed", ap), jf::sub(ap, "passed"));
    result.assertions.push_back(std::move(ar));
  }
  return result;
}

}  // namespace

namespace {

// The writer, over json (sorted keys) or ordered_json (the file: keys in skeleton order).
template <class J>
J build_summary(const RunResult& r) {
  J groups = J::array();
  for (const auto& g : r.groups) {
    J labels = J::object();
    for (const auto& [k, v] : g.stats.labels) labels[k] = v;
    const std::optional<std::string> rating = rate_group(g.stats, r.run.rating_tiers);
    groups.push_back(J{{"labels", std::move(labels)},
                       {"rating", rating ? J(*rating) : J()},
                       {"totals", totals_json<J>(g.stats.counters, r.run.duration_s, g.cost_usd)},
                       {"errors", errors_json<J>(g.stats)},
                       {"metrics", metrics_json<J>(g.stats)},
                       {"tokens_mismatch_samples", g.stats.mismatch_samples()}});
  }
  J assertions = J::array();
  for (const auto& a : r.assertions) {
    assertions.push_back(
        J{{"expr", a.expr}, {"value", optional_number<J>(a.value)}, {"passed", a.passed}});
  }
  J findings = J::array();
  for (const Finding& f : r.findings)
    findings.push_back(J{{"rule", f.rule},
                         {"severity", f.severity},
                         {"message", f.message},
                         {"evidence", J(f.evidence)},
                         {"advice", f.advice}});
  J out{{"schema", kSummarySchema},
        {"run", run_json<J>(r.run)},
        {"findings", std::move(findings)},
        {"totals", totals_json<J>(r.total.counters, r.run.duration_s, r.cost_usd)},
        {"errors", errors_json<J>(r.total)},
        {"metrics", metrics_json<J>(r.total)},
        {"tokens_mismatch_samples", r.total.mismatch_samples()},
        {"groups", std::move(groups)},
        {"assertions", std::move(assertions)}};
  if (!r.target.empty()) {
    out["target"] = target_json<J>(r.target, r.total.counters.output_tokens);
    out["target_metrics"] = target_series_json<J>(r.target);
  }
  return out;
}

}  // namespace

json summary_to_json(const RunResult& r) {
  return build_summary<json>(r);
}

std::string summary_to_string(const RunResult& result) {
  // `replace`: a stray invalid UTF-8 byte in an error sample must not make the writer throw.
  return build_summary<nlohmann::ordered_json>(result).dump(2, ' ', false,
                                                            json::error_handler_t::replace) +
         "\n";
}

Expected<std::string> write_summary_json(const RunResult& result, const std::string& path) {
  return write_file_atomic(path, summary_to_string(result));
}

Expected<RunResult> summary_from_json(const json& j, std::string_view source) {
  try {
    return read_result(j);
  } catch (const jf::FieldError& e) {
    return Error{std::string(source) + ": " + e.what()};
  } catch (const json::exception& e) {
    return Error{std::string(source) + ": malformed (" + e.what() + ")"};
  }
}

Expected<RunResult> parse_summary(std::string_view text, std::string_view source) {
  auto j = jf::parse_json_bounded(text);
  if (!j) return Error{std::string(source) + ": " + j.error()};
  return summary_from_json(*j, source);
}

Expected<RunResult> read_summary(const std::string& path) {
  auto text = read_file(path);
  if (!text) return Error{text.error()};
  return parse_summary(*text, path);
}

}  // namespace llmload
