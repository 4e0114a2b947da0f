// summary.json's `run` section (run.workers, run.client, run.rating_tiers, run.merged_from):
// its writer and its validating reader. Layout: docs/results.md "run".
#include "common/results_json_run.h"

#include <cmath>

#include "common/json_fields.h"

namespace llmload::summary_json {

using nlohmann::json;
namespace jf = json_fields;

namespace {

// run.client: the derived figures, then the counts and histograms a merge adds up.
template <class J>
J client_json(const ClientHealth& c) {
  const ClientTiming& t = c.timing;
  return J{{"saturated", c.saturated},
           {"loop_lag_ms_p99", c.loop_lag_ms_p99},
           {"cpu_busy", c.cpu_busy},
           {"steal", c.steal},
           {"timestamps", t.timestamps()},
           {"timestamps_kernel_share", t.kernel_share()},
           {"timing_uncertain_share", t.uncertain_share()},
           {"timing_uncertain_window_ms_p99", c.uncertain_window_ms_p99()},
           {"token_reads", t.token_reads},
           {"token_reads_kernel", t.token_reads_kernel},
           {"timing_values", t.timing_values},
           {"timing_uncertain", t.timing_uncertain},
           {"uncertain_window_hdr", t.uncertain_window_us.to_base64()},
           {"loop_lag_hdr", t.loop_lag_us.to_base64()},
           {"peak_rss_bytes", c.peak_rss_bytes}};
}

template <class J>
J rating_tiers_json(const std::vector<RatingTier>& tiers) {
  J out = J::array();
  for (const RatingTier& t : tiers)
    out.push_back(J{{"name", t.name},
                    {"ttft_ms_below", t.ttft_ms_below},
                    {"tokens_per_s_above", t.tokens_per_s_above}});
  return out;
}

// A run.client histogram: a "HISTF..." string with the time settings.
void read_client_histogram(const json& client, const char* key, HdrHistogram& into) {
  const std::string path = jf::sub("run.client", key);
  auto h = HdrHistogram::from_base64(jf::string(jf::member(client, key, "run.client"), path));
  if (!h) jf::fail(path, "not a valid histogram (" + h.error() + ")");
  if (!has_expected_settings(*h, units_of(Metric::kTtft))) {
    jf::fail(path, "histogram settings are not the time histograms' (1 us .. 1 h, 3 digits)");
  }
  into.add(*h);
}

// run.client. The timing counts and histograms came with issue 14: a summary written before
// has none, and reads as no token read (timestamps "none") with its stated lag p99 kept.
ClientHealth read_client(const json& v) {
  const std::string path = "run.client";
  jf::object(v, path);
  auto share = [&](const char* key) {
    const std::string p = jf::sub(path, key);
    const double x = jf::number(jf::member(v, key, path), p);
    if (x < 0 || x > 1) jf::fail(p, "outside [0, 1]");
    return x;
  };
  ClientHealth c;
  c.saturated = jf::boolean(jf::member(v, "saturated", path), jf::sub(path, "saturated"));
  c.loop_lag_ms_p99 =
      jf::number(jf::member(v, "loop_lag_ms_p99", path), jf::sub(path, "loop_lag_ms_p99"));
  c.cpu_busy = share("cpu_busy");
  c.steal = share("steal");
  if (const json* rss = jf::optional_member(v, "peak_rss_bytes"))
    c.peak_rss_bytes = jf::count(*rss, jf::sub(path, "peak_rss_bytes"));
  if (!jf::optional_member(v, "token_reads")) return c;
  ClientTiming& t = c.timing;
  auto count = [&](const char* key) {
    return jf::count(jf::member(v, key, path), jf::sub(path, key));
  };
  t.token_reads = count("token_reads");
  t.token_reads_kernel = count("token_reads_kernel");
  t.timing_values = count("timing_values");
  t.timing_uncertain = count("timing_uncertain");
  if (t.token_reads_kernel > t.token_reads)
    jf::fail(jf::sub(path, "token_reads_kernel"), "greater than token_reads");
  if (t.timing_uncertain > t.timing_values)
    jf::fail(jf::sub(path, "timing_uncertain"), "greater than timing_values");
  read_client_histogram(v, "uncertain_window_hdr", t.uncertain_window_us);
  read_client_histogram(v, "loop_lag_hdr", t.loop_lag_us);
  // The derived figures must be the counts' own (the number contract).
  const std::string& ts =
      jf::string(jf::member(v, "timestamps", path), jf::sub(path, "timestamps"));
  if (ts != t.timestamps()) {
    jf::fail(jf::sub(path, "timestamps"),
             "\"" + ts + "\" but the counts say \"" + std::string(t.timestamps()) + "\"");
  }
  const std::pair<const char*, double> derived[] = {
      {"timestamps_kernel_share", t.kernel_share()},
      {"timing_uncertain_share", t.uncertain_share()},
      {"timing_uncertain_window_ms_p99", c.uncertain_window_ms_p99()}};
  for (const auto& [key, value] : derived) {
    const std::string p = jf::sub(path, key);
    const double stated = jf::number(jf::member(v, key, path), p);
    if (!close_enough(stated, value)) {
      jf::fail(p, "is " + json(stated).dump() + " but the counts give " + json(value).dump());
    }
  }
  return c;
}

// run.workers[i]'s health figures (issue 15: a summary written before has none).
WorkerHealth read_worker_health(const json& w, const std::string& wp) {
  auto number = [&](const char* key) {
    return jf::number(jf::member(w, key, wp), jf::sub(wp, key));
  };
  auto share = [&](const char* key) {
    const double x = number(key);
    if (x < 0 || x > 1) jf::fail(jf::sub(wp, key), "outside [0, 1]");
    return x;
  };
  WorkerHealth h;
  h.peak_rss_bytes = jf::count(jf::member(w, "peak_rss_bytes", wp), jf::sub(wp, "peak_rss_bytes"));
  h.cpu_busy = share("cpu_busy");
  h.steal = share("steal");
  h.timing_uncertain_share = share("timing_uncertain_share");
  h.loop_lag_ms_p99 = number("loop_lag_ms_p99");
  h.reads_per_token = number("reads_per_token");
  for (const char* key : {"loop_lag_ms_p99", "reads_per_token"}) {
    if (number(key) < 0) jf::fail(jf::sub(wp, key), "negative");
  }
  h.timestamps = jf::string(jf::member(w, "timestamps", wp), jf::sub(wp, "timestamps"));
  if (h.timestamps != "kernel" && h.timestamps != "clock" && h.timestamps != "mixed" &&
      h.timestamps != "none")
    jf::fail(jf::sub(wp, "timestamps"), "not one of kernel, clock, mixed, none");
  return h;
}

}  // namespace

template <class J>
J run_json(const RunInfo& r) {
  J workers = J::array();
  for (const auto& w : r.workers) {
    J totals = counters_json<J>(w.totals);
    J errors = J::object();
    for (ErrorKind k : kAllErrorKinds) {
      errors[std::string(name(k))] = w.totals.errors[static_cast<std::size_t>(k)];
    }
    totals["errors"] = std::move(errors);
    const WorkerHealth& h = w.health;
    workers.push_back(J{{"id", w.id},
                        {"host", w.host},
                        {"threads", w.threads},
                        {"status", name(w.status)},
                        {"totals", std::move(totals)},
                        {"peak_rss_bytes", h.peak_rss_bytes},
                        {"cpu_busy", h.cpu_busy},
                        {"steal", h.steal},
                        {"loop_lag_ms_p99", h.loop_lag_ms_p99},
                        {"reads_per_token", h.reads_per_token},
                        {"timestamps", h.timestamps},
                        {"timing_uncertain_share", h.timing_uncertain_share}});
  }
  J run{{"id", r.id},
        {"status", name(r.status)},
        {"exit_code", r.exit_code},
        {"started_at", r.started_at},
        {"duration_s", r.duration_s},
        {"version", r.version},
        {"command", r.command},
        {"scenario", J(r.scenario)},
        {"seed", r.seed},
        {"host", r.host},
        {"insecure", r.insecure},
        {"workers", std::move(workers)},
        {"client", client_json<J>(r.client)},
        {"warnings", r.warnings},
        {"rating_tiers", rating_tiers_json<J>(r.rating_tiers)}};
  if (!r.merged_from.empty()) {
    J sources = J::array();
    for (const MergeSource& m : r.merged_from)
      sources.push_back(J{{"source", m.source},
                          {"id", m.id},
                          {"started_at", m.started_at},
                          {"duration_s", m.duration_s},
                          {"status", std::string(name(m.status))},
                          {"requests", m.requests}});
    run["merged_from"] = std::move(sources);
  }
  return run;
}

template nlohmann::json run_json<nlohmann::json>(const RunInfo&);
template nlohmann::ordered_json run_json<nlohmann::ordered_json>(const RunInfo&);

RunInfo read_run(const json& v) {
  const std::string path = "run";
  jf::object(v, path);
  auto str = [&](const char* key) -> std::string {
    return jf::string(jf::member(v, key, path), jf::sub(path, key));
  };
  RunInfo r;
  r.id = str("id");
  auto status = parse_run_status(str("status"));
  if (!status) jf::fail("run.status", "not one of completed, aborted, partial, failed");
  r.status = *status;
  r.exit_code = jf::integer(jf::member(v, "exit_code", path), "run.exit_code");
  r.started_at = str("started_at");
  r.duration_s = jf::number(jf::member(v, "duration_s", path), "run.duration_s");
  if (r.duration_s < 0) jf::fail("run.duration_s", "negative");
  r.version = str("version");
  r.command = str("command");
  r.scenario = jf::member(v, "scenario", path);
  r.seed = jf::integer(jf::member(v, "seed", path), "run.seed");
  r.host = str("host");
  r.insecure = jf::boolean(jf::member(v, "insecure", path), "run.insecure");

  const json& workers = jf::array(jf::member(v, "workers", path), "run.workers");
  for (std::size_t i = 0; i < workers.size(); ++i) {
    std::string wp = jf::index("run.workers", i);
    const json& w = jf::object(workers[i], wp);
    WorkerInfo info;
    info.id = jf::string(jf::member(w, "id", wp), jf::sub(wp, "id"));
    info.host = jf::string(jf::member(w, "host", wp), jf::sub(wp, "host"));
    info.threads = jf::count(jf::member(w, "threads", wp), jf::sub(wp, "threads"));
    auto ws = parse_worker_status(jf::string(jf::member(w, "status", wp), jf::sub(wp, "status")));
    if (!ws) jf::fail(jf::sub(wp, "status"), "not ok or lost");
    info.status = *ws;
    std::string tp = jf::sub(wp, "totals");
    const json& totals = jf::member(w, "totals", wp);
    read_counters(totals, tp, info.totals, false);
    if (const json* errors = jf::optional_member(totals, "errors")) {
      std::string ep = jf::sub(tp, "errors");
      for (const auto& [k, n] : jf::object(*errors, ep).items()) {
        auto kind = parse_error_kind(k);
        if (!kind) jf::fail(jf::sub(ep, k), "unknown error kind");
        info.totals.errors[static_cast<std::size_t>(*kind)] = jf::count(n, jf::sub(ep, k));
      }
    }
    if (jf::optional_member(w, "peak_rss_bytes")) info.health = read_worker_health(w, wp);
    r.workers.push_back(std::move(info));
  }

  r.client = read_client(jf::member(v, "client", path));

  const json& warnings = jf::array(jf::member(v, "warnings", path), "run.warnings");
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    r.warnings.push_back(jf::string(warnings[i], jf::index("run.warnings", i)));
  }
  // Absent in a summary written before tiers were recorded: the defaults rated it.
  if (const json* tiers = jf::optional_member(v, "rating_tiers")) {
    const json& a = jf::array(*tiers, "run.rating_tiers");
    r.rating_tiers.clear();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string tp = jf::index("run.rating_tiers", i);
      const json& t = jf::object(a[i], tp);
      RatingTier tier;
      tier.name = jf::string(jf::member(t, "name", tp), jf::sub(tp, "name"));
      tier.ttft_ms_below =
          jf::number(jf::member(t, "ttft_ms_below", tp), jf::sub(tp, "ttft_ms_below"));
      tier.tokens_per_s_above =
          jf::number(jf::member(t, "tokens_per_s_above", tp), jf::sub(tp, "tokens_per_s_above"));
      r.rating_tiers.push_back(std::move(tier));
    }
    if (r.rating_tiers.empty()) jf::fail("run.rating_tiers", "empty");
  }
  if (const json* merged = jf::optional_member(v, "merged_from")) {
    const json& sources = jf::array(*merged, "run.merged_from");
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const std::string mp = jf::index("run.merged_from", i);
      const json& m = jf::object(sources[i], mp);
      auto mstr = [&](const char* key) {
        return jf::string(jf::member(m, key, mp), jf::sub(mp, key));
      };
      MergeSource s;
      s.source = mstr("source");
      s.id = mstr("id");
      s.started_at = mstr("started_at");
      s.duration_s = jf::number(jf::member(m, "duration_s", mp), jf::sub(mp, "duration_s"));
      auto status = parse_run_status(mstr("status"));
      if (!status)
        jf::fail(jf::sub(mp, "status"), "not one of completed, aborted, partial, failed");
      s.status = *status;
      s.requests = jf::count(jf::member(m, "requests", mp), jf::sub(mp, "requests"));
      r.merged_from.push_back(std::move(s));
    }
  }
  return r;
}

}  // namespace llmload::summary_json
