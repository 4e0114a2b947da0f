// llmload validate SCENARIO [overrides]: checks a scenario without sending a request and says
// what it will do. Exit 0: valid; 2: invalid (every problem on stderr).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "analysis/observe/alert_rules.h"
#include "cli/commands.h"
#include "cli/override_flags.h"
#include "common/atomic_file.h"
#include "common/duration.h"
#include "common/exit_codes.h"
#include "common/number_format.h"
#include "common/overrides.h"
#include "common/prompts.h"
#include "common/scenario.h"
#include "common/shared_file.h"

namespace llmload::cli {

namespace {

// A distribution of nanoseconds, in duration units.
std::string describe_durations(const Distribution& d) {
  auto f = [](double ns) { return format_duration_ns(static_cast<int64_t>(ns)); };
  switch (d.kind) {
    case DistKind::kFixed:
      return f(d.value);
    case DistKind::kUniform:
      return "uniform [" + f(d.min) + ", " + f(d.max) + "]";
    case DistKind::kNormal:
    case DistKind::kLognormal:
      return std::string(d.kind == DistKind::kNormal ? "normal" : "lognormal") + " mean " +
             f(d.mean) + " stddev " + f(d.stddev) +
             (d.has_max ? " [" + f(d.min) + ", " + f(d.max) + "]" : "");
  }
  return "";
}

void print_targets(const Scenario& s) {
  std::printf("targets (%zu):\n", s.targets.size());
  for (const Target& t : s.targets) {
    std::printf("  %s: %s, api %s, weight %s%s\n", t.name.c_str(),
                t.is_mock() ? "built-in mock" : t.url.c_str(), std::string(api_name(t.api)).c_str(),
                format_general(t.weight).c_str(), t.tls.insecure ? ", TLS verification OFF" : "");
    for (const ModelChoice& m : t.models) {
      std::printf("    model %s (weight %s)\n", m.name.c_str(), format_general(m.weight).c_str());
    }
    for (const Header& h : t.headers) {
      std::printf("    header %s: %s\n", h.name.c_str(),
                  h.secret ? "*** (secret)" : h.value.c_str());
    }
  }
}

void print_load(const Scenario& s) {
  const Load& l = s.load;
  const bool rate = l.mode == LoadMode::kRate;
  std::string shape;
  if (l.stages.empty()) {
    shape = rate ? format_general(l.rate) + " requests/s, " +
                       (l.arrival == Arrival::kPoisson ? "poisson" : "constant") + " arrivals"
                 : std::to_string(l.concurrency) + " in flight";
  } else {
    shape = std::to_string(l.stages.size()) + " stages:";
    for (const Stage& st : l.stages) {
      shape += " " + format_duration_ns(st.duration_ns) + "→" +
               (rate ? format_general(st.rate) + "/s" : std::to_string(st.concurrency));
    }
  }
  std::printf("load: %s mode, %s\n", rate ? "rate" : "concurrency", shape.c_str());
  if (rate && l.max_in_flight > 0)
    std::printf("  max in flight: %lld\n", (long long)l.max_in_flight);
  if (!rate) {
    std::printf("  think time: %s\n",
                l.think_time.is_zero() ? "none" : describe_durations(l.think_time).c_str());
  } else if (s.prompts.kind == PromptSourceKind::kConversations) {
    // Rate mode with conversations: the rate starts sessions, each turn after the last + think.
    std::printf("  sessions: each arrival starts a conversation; its next turn %s\n",
                l.think_time.is_zero()
                    ? "when the previous one ended"
                    : ("after the previous one ended plus " + describe_durations(l.think_time))
                          .c_str());
  }
  std::string limits;
  if (l.requests > 0) limits += std::to_string(l.requests) + " requests";
  if (l.duration_ns > 0)
    limits += (limits.empty() ? "" : " or ") + format_duration_ns(l.duration_ns);
  std::printf("limits: %s (first reached ends the run); warmup %s; grace %s; interval %s\n",
              limits.c_str(), format_duration_ns(l.warmup_ns).c_str(),
              format_duration_ns(l.grace_ns).c_str(), format_duration_ns(s.interval_ns).c_str());
}

// Trace replay: the file parsed and summed up (a bad row is an error naming its line).
bool print_trace(const Scenario& s) {
  const TraceSpec& t = *s.load.trace;
  auto trace = load_trace(t);
  if (!trace) {
    std::fprintf(stderr, "load.trace: %s\n", trace.error().c_str());
    return false;
  }
  std::vector<int64_t> in;
  int64_t out = 0;
  for (const TraceRow& r : trace->rows) in.push_back(r.input_tokens), out += r.output_tokens;
  std::sort(in.begin(), in.end());
  double sum = 0;
  for (int64_t v : in) sum += double(v);
  const double n = double(in.size());
  auto pct = [&](double q) { return (long long)in[std::min(in.size() - 1, size_t(q * n))]; };
  std::printf("load: trace replay, %s %s: %zu rows over %s, speed %s%s\n",
              std::string(trace_format_name(t.format)).c_str(), t.file.c_str(), in.size(),
              format_duration_ns(trace->span_ns).c_str(), format_general(t.speed).c_str(),
              t.loop ? ", looped" : "");
  if (s.load.max_in_flight > 0)
    std::printf("  max in flight: %lld\n", (long long)s.load.max_in_flight);
  std::printf("limits: the trace's last row%s; warmup %s; grace %s; interval %s\n",
              s.load.duration_ns > 0 ? (" or " + format_duration_ns(s.load.duration_ns)).c_str()
                                     : "",
              format_duration_ns(s.load.warmup_ns).c_str(),
              format_duration_ns(s.load.grace_ns).c_str(),
              format_duration_ns(s.interval_ns).c_str());
  std::printf("  input tokens (trace rows): count %zu, mean %.1f, p50 %lld, p90 %lld, max %lld; "
              "mean output %.1f\n",
              in.size(), sum / n, pct(0.5), pct(0.9), (long long)in.back(), double(out) / n);
  std::printf("  %zu hash ids, %zu rows with their own prompt, %zu models named by rows\n",
              trace->hash_ids.size(), trace->prompts_json.size(), trace->models.size());
  return true;
}

// Prompt source and input-length statistics (over the whole dataset, or over the synthetic
// prompts a run would use).
bool print_prompts(const Scenario& s) {
  const PromptSource& p = s.prompts;
  if (s.load.trace) {
    std::printf("prompts: synthesized per trace row (the prompts section is not used)\n");
    return true;
  }
  std::printf("prompts: %s", std::string(prompt_source_name(p.kind)).c_str());
  if (!p.file.empty()) std::printf(" %s", p.file.c_str());
  if (p.kind == PromptSourceKind::kSynthetic) {
    std::printf(", input tokens %s, shared prefix %lld", p.input_tokens.describe().c_str(),
                (long long)p.shared_prefix_tokens);
  } else {
    const char* sampling = p.sampling == Sampling::kShuffle      ? "shuffle (without replacement)"
                           : p.sampling == Sampling::kSequential ? "sequential"
                                                                 : "random (with replacement)";
    std::printf(", sampling %s", sampling);
  }
  if (p.unique_prefix) std::printf(", unique prefix per request");
  if (p.kind == PromptSourceKind::kConversations) {
    std::printf(", history %s", p.history == History::kLive ? "live" : "recorded");
    if (p.history == History::kLive)
      std::printf(" (at most %lld bytes of replies kept per conversation)",
                  static_cast<long long>(p.history_max_bytes));
    if (p.sticky) std::printf(", sticky (a conversation's turns on one connection)");
  }
  std::printf("\n");
  if (prompts_read_on_worker(s)) {
    // Remote workers read the file too: say so before a run finds a worker without it.
    auto f = describe_shared_file("prompts.file", p.file);
    if (!f) {
      std::fprintf(stderr, "%s\n", f.error().c_str());
      return false;
    }
    std::printf("  read by every worker from this path (remote workers need the same file "
                "there): %lld bytes, sha256 %.12s...\n",
                static_cast<long long>(f->size), f->sha256.c_str());
  }
  size_t count = s.load.requests > 0 ? size_t(std::min<int64_t>(s.load.requests, 10000)) : 10000;
  Scenario copy = s;
  const char* over = "synthetic sample";
  if (p.kind != PromptSourceKind::kSynthetic) {
    auto entries = load_prompt_entries(p);
    if (!entries) {
      std::fprintf(stderr, "%s\n", entries.error().c_str());
      return false;
    }
    count = entries->size();
    copy.prompts.sampling = Sampling::kSequential;
    copy.prompts.unique_prefix = false;
    over = "dataset";
  }
  auto prompts = sample_prompts(copy, count, s.seed);
  if (!prompts) {
    std::fprintf(stderr, "%s\n", prompts.error().c_str());
    return false;
  }
  if (auto problems = check_group_by(s, *prompts); !problems.empty()) {
    for (const std::string& e : problems) std::fprintf(stderr, "%s\n", e.c_str());
    return false;
  }
  const std::vector<Labels> groups = scenario_group_labels(s, *prompts);
  std::printf("  groups: %zu%s", groups.size(), s.group_by ? " (group_by" : "");
  if (s.group_by)
    for (const std::string& k : *s.group_by) std::printf(" %s", k.c_str());
  std::printf("%s", s.group_by ? ")" : "");
  for (size_t i = 0; i < groups.size() && i < 8; ++i)
    std::printf("%s %s", i == 0 ? ":" : ";", group_key(groups[i]).c_str());
  std::printf("%s\n", groups.size() > 8 ? "; ..." : "");
  const PromptLengthStats st = prompt_length_stats(*prompts);
  // With prompts.tokenizer the lengths are that tokenizer's tokens, else words.
  const char* unit = s.prompts.tokenizer.empty() ? "≈ words" : "tokenizer tokens";
  std::printf("  input tokens (%s, %s): count %zu, mean %.1f, p50 %lld, p90 %lld, max %lld\n",
              over, unit, st.count, st.mean, (long long)st.p50, (long long)st.p90,
              (long long)st.max);
  return true;
}

void print_rest(const Scenario& s) {
  const Output& o = s.output;
  std::printf("output: max_tokens %s, ignore_eos %s",
              s.load.trace     ? "each trace row's output length"
              : o.max_tokens ? o.max_tokens->describe().c_str()
                             : "server default",
              o.ignore_eos ? "true" : "false");
  if (o.temperature) std::printf(", temperature %s", format_general(*o.temperature).c_str());
  if (!o.extra.empty()) std::printf(", extra %s", o.extra.dump().c_str());
  std::printf("\n");
  const RequestSlo& r = s.slo.request;
  if (!r.empty()) {
    std::printf("slo.request:");
    auto show = [](const char* n, const std::optional<int64_t>& v) {
      if (v) std::printf(" %s <= %s", n, format_duration_ns(*v).c_str());
    };
    show("ttft", r.ttft_ns), show("ttfo", r.ttfo_ns), show("tpot", r.tpot_ns),
        show("itl", r.itl_ns), show("e2e", r.e2e_ns);
    std::printf("\n");
  }
  for (const SloAssertion& a : s.slo.asserts) {
    std::printf("assert: %s%s\n", a.text.c_str(),
                a.abort_on_fail && a.text.find("abort_on_fail") == std::string::npos
                    ? " (abort_on_fail)"
                    : "");
  }
  switch (s.sweep.kind) {
    case SweepKind::kNone:
      break;
    case SweepKind::kConcurrency: {
      std::string v;
      for (int64_t c : s.sweep.concurrency) v += (v.empty() ? "" : ", ") + std::to_string(c);
      std::printf("sweep: concurrency %s\n", v.c_str());
      break;
    }
    case SweepKind::kRate: {
      std::string v;
      for (double r : s.sweep.rate) v += (v.empty() ? "" : ", ") + format_general(r);
      std::printf("sweep: rate %s\n", v.c_str());
      break;
    }
    case SweepKind::kSearch:
      std::printf("sweep: search %s from %s to %s, factor %s, precision %s\n",
                  s.sweep.search_mode == LoadMode::kRate ? "rate" : "concurrency",
                  format_general(s.sweep.search_min).c_str(),
                  format_general(s.sweep.search_max).c_str(),
                  format_general(s.sweep.search_factor).c_str(),
                  format_general(s.sweep.search_precision).c_str());
      break;
  }
  std::printf("on worker loss: %s; seed %llu\n",
              s.on_worker_loss == OnWorkerLoss::kStop ? "stop" : "continue",
              (unsigned long long)s.seed);
  for (const auto& [model, p] : s.pricing) {
    std::printf("pricing %s: $%s / Mtok in, $%s / Mtok out\n", model.c_str(),
                format_general(p.input_per_mtok).c_str(),
                format_general(p.output_per_mtok).c_str());
  }
  if (!s.tags.empty()) {
    std::printf("tags:");
    for (const auto& [k, v] : s.tags) std::printf(" %s=%s", k.c_str(), v.c_str());
    std::printf("\n");
  }
  for (const std::string& o : s.overrides) std::printf("override: %s\n", o.c_str());
}

}  // namespace

void register_validate(CLI::App& app, int& exit_code) {
  CLI::App* sub = app.add_subcommand("validate", "check a scenario file without running it");
  auto path = std::make_shared<std::string>();
  auto overrides = std::make_shared<Overrides>();
  sub->add_option("SCENARIO", *path, "scenario file (YAML or JSON)")->required();
  add_override_flags(sub, *overrides);
  auto rules = std::make_shared<std::string>();
  sub->add_option("--alert-rules", *rules,
                  "write Prometheus alerting rules for the scenario's assertions to FILE");
  sub->callback([&exit_code, path, overrides, rules] {
    auto s = load_scenario_with_overrides(*path, *overrides);
    if (!s) {
      std::fprintf(stderr, "%s\n%s: invalid\n", s.error().c_str(), path->c_str());
      exit_code = kExitUsage;
      return;
    }
    // Secrets: a missing variable is only a warning here (it is an error in run).
    std::vector<std::string> errors = resolve_secrets(*s, false);
    for (const std::string& e : errors) std::fprintf(stderr, "%s: %s\n", path->c_str(), e.c_str());
    std::printf("scenario: %s (%s)\n", s->name.c_str(), s->source_path.c_str());
    if (!s->description.empty()) std::printf("  %s\n", s->description.c_str());
    print_targets(*s);
    const bool trace_ok = s->load.trace ? print_trace(*s) : (print_load(*s), true);
    const bool prompts_ok = print_prompts(*s) && trace_ok;
    print_rest(*s);
    for (const std::string& w : s->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!errors.empty() || !prompts_ok) {
      std::fprintf(stderr, "%s: invalid\n", path->c_str());
      exit_code = kExitUsage;
      return;
    }
    if (!rules->empty()) {
      analysis::AlertRulesOutput out =
          analysis::prometheus_alert_rules(s->slo.asserts, "llmload " + s->name);
      if (auto w = write_file_atomic(*rules, out.yaml); !w) {
        std::fprintf(stderr, "llmload validate: %s\n", w.error().c_str());
        exit_code = kExitInternal;
        return;
      }
      for (const std::string& skip : out.skipped)
        std::fprintf(stderr, "alert rules: skipped %s\n", skip.c_str());
      std::printf("alert rules: %s\n", rules->c_str());
    }
    std::printf("valid: no request was sent\n");
    exit_code = kExitOk;
  });
}

}  // namespace llmload::cli
