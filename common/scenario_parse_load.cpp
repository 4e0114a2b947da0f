// YAML → Scenario: load, output, slo and sweep sections.
#include <filesystem>
#include <limits>

#include "common/scenario_parse_ctx.h"

namespace llmload::scenario_parse {

namespace {
constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxConcurrency = 1'000'000;
constexpr double kMaxRate = 1e7;
}  // namespace

namespace {

// load.trace: {file, format, speed, loop}; the rest of load that a trace replaces is refused.
void parse_trace_spec(Ctx& ctx, const YAML::Node& n, const YAML::Node& t, Load& load) {
  for (const char* k : {"mode", "concurrency", "rate", "arrival", "stages", "requests",
                        "think_time"}) {
    if (n[k].IsDefined())
      ctx.error(n[k], std::string("load.") + k,
                "not with load.trace (the trace says when each request starts)");
  }
  if (!ctx.expect_map(t, "load.trace", {"file", "format", "speed", "loop"})) return;
  TraceSpec spec;
  if (!t["file"].IsDefined()) {
    ctx.error(t, "load.trace.file", "missing: the trace file to replay");
  } else if (auto f = ctx.str(t["file"], "load.trace.file")) {
    spec.file = ctx.resolve_path(*f);
    std::error_code ec;
    if (ctx.check_files && !std::filesystem::is_regular_file(spec.file, ec))
      ctx.error(t["file"], "load.trace.file", "file not found: " + spec.file);
  }
  if (!t["format"].IsDefined()) {
    ctx.error(t, "load.trace.format", "missing: mooncake, azure or jsonl");
  } else if (auto f = ctx.choice(t["format"], "load.trace.format", {"mooncake", "azure", "jsonl"})) {
    spec.format = *f == "mooncake" ? TraceFormat::kMooncake
                  : *f == "azure"  ? TraceFormat::kAzure
                                   : TraceFormat::kJsonl;
  }
  if (t["speed"].IsDefined())
    spec.speed = ctx.positive(t["speed"], "load.trace.speed", 1e6).value_or(1);
  if (t["loop"].IsDefined()) spec.loop = ctx.boolean(t["loop"], "load.trace.loop").value_or(false);
  load.mode = LoadMode::kRate;
  load.rate = 0;
  load.trace = spec;
}

}  // namespace

void parse_load(Ctx& ctx, const YAML::Node& n, Load& load) {
  if (!ctx.expect_map(n, "load",
                      {"mode", "concurrency", "rate", "arrival", "stages", "duration", "requests",
                       "warmup", "grace", "max_in_flight", "think_time", "trace"})) {
    return;
  }
  if (const YAML::Node t = n["trace"]; t.IsDefined()) {
    parse_trace_spec(ctx, n, t, load);
    if (n["duration"].IsDefined())
      load.duration_ns = ctx.duration(n["duration"], "load.duration", false).value_or(0);
    if (n["warmup"].IsDefined())
      load.warmup_ns = ctx.duration(n["warmup"], "load.warmup", true).value_or(0);
    if (n["grace"].IsDefined())
      load.grace_ns = ctx.duration(n["grace"], "load.grace", true).value_or(load.grace_ns);
    if (n["max_in_flight"].IsDefined())
      load.max_in_flight =
          ctx.integer(n["max_in_flight"], "load.max_in_flight", 1, kMaxConcurrency).value_or(0);
    return;
  }
  const bool has_c = n["concurrency"].IsDefined();
  const bool has_r = n["rate"].IsDefined();
  if (n["mode"].IsDefined()) {
    if (auto m = ctx.choice(n["mode"], "load.mode", {"concurrency", "rate"})) {
      load.mode = *m == "rate" ? LoadMode::kRate : LoadMode::kConcurrency;
    }
  } else if (has_c && has_r) {
    ctx.error(n["rate"], "load.rate", "both concurrency and rate given: set load.mode");
  } else if (has_r) {
    load.mode = LoadMode::kRate;
  }
  const bool rate_mode = load.mode == LoadMode::kRate;
  if (has_c) {
    if (rate_mode)
      ctx.error(n["concurrency"], "load.concurrency", "applies to mode concurrency, not rate");
    else
      load.concurrency =
          ctx.integer(n["concurrency"], "load.concurrency", 1, kMaxConcurrency).value_or(1);
  }
  if (has_r) {
    if (!rate_mode)
      ctx.error(n["rate"], "load.rate", "applies to mode rate, not concurrency");
    else
      load.rate = ctx.positive(n["rate"], "load.rate", kMaxRate).value_or(0);
  }
  if (n["arrival"].IsDefined()) {
    if (!rate_mode)
      ctx.error(n["arrival"], "load.arrival", "applies to mode rate, not concurrency");
    else if (auto a = ctx.choice(n["arrival"], "load.arrival", {"constant", "poisson"}))
      load.arrival = *a == "poisson" ? Arrival::kPoisson : Arrival::kConstant;
  }
  if (n["max_in_flight"].IsDefined()) {
    if (!rate_mode)
      ctx.error(n["max_in_flight"], "load.max_in_flight",
                "applies to mode rate (concurrency mode is its own cap)");
    else
      load.max_in_flight =
          ctx.integer(n["max_in_flight"], "load.max_in_flight", 1, kMaxConcurrency).value_or(0);
  }
  int64_t stages_total = 0;
  if (const YAML::Node st = n["stages"]; st.IsDefined()) {
    if (!st.IsSequence() || st.size() == 0) {
      ctx.error(st, "load.stages", "expected a non-empty list of {duration, concurrency|rate}");
    } else {
      for (size_t i = 0; i < st.size(); ++i) {
        const std::string p = "load.stages[" + std::to_string(i) + "]";
        const YAML::Node s = st[i];
        if (!ctx.expect_map(s, p, {"duration", "concurrency", "rate"})) continue;
        Stage stage;
        if (!s["duration"].IsDefined())
          ctx.error(s, p, "missing 'duration'");
        else
          stage.duration_ns = ctx.duration(s["duration"], p + ".duration", false).value_or(0);
        const char* want = rate_mode ? "rate" : "concurrency";
        const char* other = rate_mode ? "concurrency" : "rate";
        if (s[other].IsDefined()) {
          ctx.error(s[other], p + "." + other,
                    std::string("the load is in mode ") + want + ": give " + want);
        } else if (!s[want].IsDefined()) {
          ctx.error(s, p, std::string("missing '") + want + "'");
        } else if (rate_mode) {
          stage.rate = ctx.number(s["rate"], p + ".rate", 0, kMaxRate).value_or(0);
        } else {
          stage.concurrency =
              ctx.integer(s["concurrency"], p + ".concurrency", 0, kMaxConcurrency).value_or(0);
        }
        stages_total += stage.duration_ns;
        load.stages.push_back(stage);
      }
    }
  }
  if (rate_mode && !has_r && load.stages.empty()) {
    ctx.error(n, "load.rate", "missing: mode rate needs a rate (requests per second) or stages");
  }
  if (n["duration"].IsDefined())
    load.duration_ns = ctx.duration(n["duration"], "load.duration", false).value_or(0);
  else
    load.duration_ns = stages_total;
  if (n["requests"].IsDefined())
    load.requests = ctx.integer(n["requests"], "load.requests", 1, kMaxInt).value_or(0);
  if (n["warmup"].IsDefined())
    load.warmup_ns = ctx.duration(n["warmup"], "load.warmup", true).value_or(0);
  if (n["grace"].IsDefined())
    load.grace_ns = ctx.duration(n["grace"], "load.grace", true).value_or(load.grace_ns);
  // Rate mode takes a think time only for conversations (between a session's turns): the
  // caller checks that once the prompts are read.
  if (n["think_time"].IsDefined()) {
    if (auto d = ctx.distribution(n["think_time"], "load.think_time", true)) load.think_time = *d;
  }
}

void parse_output(Ctx& ctx, const YAML::Node& n, Output& o) {
  if (!ctx.expect_map(n, "output",
                      {"max_tokens", "ignore_eos", "temperature", "extra", "stream", "batch"}))
    return;
  if (n["stream"].IsDefined()) o.stream = ctx.boolean(n["stream"], "output.stream").value_or(true);
  if (n["batch"].IsDefined()) {
    if (auto b = ctx.number(n["batch"], "output.batch", 1, 2048)) {
      if (*b != double(int64_t(*b)))
        ctx.error(n["batch"], "output.batch", "must be a whole number");
      else
        o.batch = int64_t(*b);
    }
  }
  if (n["max_tokens"].IsDefined()) {
    if (auto d = ctx.distribution(n["max_tokens"], "output.max_tokens", false)) {
      if (d->kind == DistKind::kFixed && d->value < 1)
        ctx.error(n["max_tokens"], "output.max_tokens", "must be at least 1");
      else
        o.max_tokens = *d;
    }
  }
  if (n["ignore_eos"].IsDefined())
    o.ignore_eos = ctx.boolean(n["ignore_eos"], "output.ignore_eos").value_or(false);
  if (n["temperature"].IsDefined()) {
    if (auto t = ctx.number(n["temperature"], "output.temperature", 0, 10)) o.temperature = *t;
  }
  if (const YAML::Node e = n["extra"]; e.IsDefined()) {
    if (!e.IsMap()) {
      ctx.error(e, "output.extra", "expected a map of request fields passed through as they are");
    } else {
      o.extra = ctx.to_json(e);
      for (const char* reserved :
           {"model", "messages", "prompt", "stream", "max_tokens", "temperature"}) {
        if (o.extra.contains(reserved)) {
          ctx.error(e[reserved], std::string("output.extra.") + reserved,
                    "set by llmload itself (use the scenario's own field)");
        }
      }
    }
  }
}

void parse_cancel(Ctx& ctx, const YAML::Node& n, Cancel& c) {
  if (!ctx.expect_map(n, "cancel", {"share", "after"})) return;
  if (!n["share"].IsDefined()) {
    ctx.error(n, "cancel.share", "missing: the share of requests the client closes (0 to 1)");
    return;
  }
  const std::optional<double> share = ctx.number(n["share"], "cancel.share", 0, 1);
  if (!share) return;
  if (!n["after"].IsDefined()) {
    if (*share > 0)
      ctx.error(n, "cancel.after",
                "missing: when a picked request is closed, from its write (e.g. 500ms or "
                "{dist: uniform, min: 100ms, max: 2s})");
    return;
  }
  auto d = ctx.distribution(n["after"], "cancel.after", true);
  if (!d) return;
  c.share = *share;
  c.after = *d;
}

void parse_slo(Ctx& ctx, const YAML::Node& n, Slo& slo) {
  if (!ctx.expect_map(n, "slo", {"request", "assert"})) return;
  if (const YAML::Node r = n["request"]; r.IsDefined()) {
    if (ctx.expect_map(r, "slo.request", {"ttft", "ttfo", "tpot", "itl", "e2e"})) {
      auto set = [&](const char* k, std::optional<int64_t>& f) {
        if (r[k].IsDefined()) {
          if (auto d = ctx.duration(r[k], std::string("slo.request.") + k, false)) f = *d;
        }
      };
      set("ttft", slo.request.ttft_ns);
      set("ttfo", slo.request.ttfo_ns);
      set("tpot", slo.request.tpot_ns);
      set("itl", slo.request.itl_ns);
      set("e2e", slo.request.e2e_ns);
    }
  }
  if (const YAML::Node a = n["assert"]; a.IsDefined()) {
    if (!a.IsSequence()) {
      ctx.error(a, "slo.assert", "expected a list of expressions such as 'ttft.p99 < 2s'");
      return;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string p = "slo.assert[" + std::to_string(i) + "]";
      YAML::Node e = a[i];
      std::optional<bool> abort;
      if (e.IsMap()) {
        if (!ctx.expect_map(e, p, {"expr", "abort_on_fail"})) continue;
        if (e["abort_on_fail"].IsDefined())
          abort = ctx.boolean(e["abort_on_fail"], p + ".abort_on_fail");
        if (!e["expr"].IsDefined()) {
          ctx.error(e, p, "missing 'expr'");
          continue;
        }
        e = e["expr"];
      }
      auto text = ctx.str(e, p);
      if (!text) continue;
      auto parsed = parse_slo_expr(*text);
      if (!parsed) {
        ctx.error(e, p, parsed.error());
        continue;
      }
      if (abort.value_or(false)) parsed->abort_on_fail = true;
      slo.asserts.push_back(std::move(*parsed));
    }
  }
}

void parse_sweep(Ctx& ctx, const YAML::Node& n, Sweep& sweep) {
  if (!ctx.expect_map(n, "sweep", {"concurrency", "rate", "search"})) return;
  int given = n["concurrency"].IsDefined() + n["rate"].IsDefined() + n["search"].IsDefined();
  if (given != 1) {
    ctx.error(n, "sweep", "give exactly one of concurrency (list), rate (list) or search");
    return;
  }
  auto list = [&](const char* k) -> YAML::Node {
    const YAML::Node l = n[k];
    if (!l.IsSequence() || l.size() == 0) {
      ctx.error(l, std::string("sweep.") + k, "expected a non-empty list of levels");
      return YAML::Node();
    }
    return l;
  };
  if (n["concurrency"].IsDefined()) {
    sweep.kind = SweepKind::kConcurrency;
    const YAML::Node l = list("concurrency");
    for (size_t i = 0; l.IsSequence() && i < l.size(); ++i) {
      if (auto v =
              ctx.integer(l[i], "sweep.concurrency[" + std::to_string(i) + "]", 1, kMaxConcurrency))
        sweep.concurrency.push_back(*v);
    }
  } else if (n["rate"].IsDefined()) {
    sweep.kind = SweepKind::kRate;
    const YAML::Node l = list("rate");
    for (size_t i = 0; l.IsSequence() && i < l.size(); ++i) {
      if (auto v = ctx.positive(l[i], "sweep.rate[" + std::to_string(i) + "]", kMaxRate))
        sweep.rate.push_back(*v);
    }
  } else {
    sweep.kind = SweepKind::kSearch;
    const YAML::Node s = n["search"];
    if (!ctx.expect_map(s, "sweep.search", {"mode", "min", "max", "factor", "precision"})) return;
    if (s["mode"].IsDefined()) {
      if (auto m = ctx.choice(s["mode"], "sweep.search.mode", {"concurrency", "rate"}))
        sweep.search_mode = *m == "rate" ? LoadMode::kRate : LoadMode::kConcurrency;
    }
    const double lo_min = sweep.search_mode == LoadMode::kRate ? 1e-6 : 1;
    const double hi = sweep.search_mode == LoadMode::kRate ? kMaxRate : double(kMaxConcurrency);
    if (s["min"].IsDefined())
      sweep.search_min =
          ctx.number(s["min"], "sweep.search.min", lo_min, hi).value_or(sweep.search_min);
    if (s["max"].IsDefined())
      sweep.search_max =
          ctx.number(s["max"], "sweep.search.max", lo_min, hi).value_or(sweep.search_max);
    if (s["factor"].IsDefined())
      sweep.search_factor = ctx.number(s["factor"], "sweep.search.factor", 1.01, 100).value_or(2);
    if (s["precision"].IsDefined())
      sweep.search_precision =
          ctx.number(s["precision"], "sweep.search.precision", 0.001, 1).value_or(0.1);
    if (sweep.search_min > sweep.search_max)
      ctx.error(s, "sweep.search", "min must not exceed max");
  }
}

}  // namespace llmload::scenario_parse
