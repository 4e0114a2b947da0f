#include "analysis/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "analysis/report/svg_chart.h"
#include "common/atomic_file.h"
#include "common/duration.h"
#include "common/number_format.h"
#include "common/results_csv.h"
#include "common/results_json.h"
#include "common/slo_expr.h"

namespace llmload::analysis {
namespace {

const char* kStyle = R"(
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:6px 10px;margin:4px 0}
.finding{padding:6px 10px;margin:4px 0;border-left:4px solid #1565c0;background:#eef4fb}.finding.warning{border-left-color:#f0a020;background:#fff4e5}
.status-completed{color:#1a7f37}.status-aborted,.status-failed{color:#c62828}.status-partial{color:#b26a00}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border:1px solid #eee}
.chart .grid{stroke:#eee}.chart .tick,.chart .legend,.chart .axis-label{font-size:11px;fill:#555}
.chart .chart-title{font-size:13px;font-weight:600}.chart .slo{stroke:#c62828;stroke-dasharray:6 4}
.chart .slo-label{font-size:11px;fill:#c62828}.chart .marker{stroke:#999;stroke-dasharray:2 3}
.chart .marker-label{font-size:10px;fill:#777}.chart .step{fill:#fff;stroke:#1f77b4;stroke-width:1.5}
.chart .step.fail{stroke:#c62828}.chart .knee{fill:none;stroke:#1a7f37;stroke-width:2.5}
.chart .knee-label{font-size:12px;font-weight:600;fill:#1a7f37}tr.knee td{background:#eaf6ec}
.rating-excellent{color:#1a7f37;font-weight:600}.rating-good{color:#2e7d32}.rating-fair{color:#b26a00}.rating-poor{color:#c62828}
code{font-size:12px}
)";

std::string group_name(const GroupStats& g) {
  if (g.labels.empty()) return "total";
  std::string s;
  for (const auto& [k, v] : g.labels) {
    if (k == "target" && g.labels.size() > 1) continue;  // the model names it better
    s += (s.empty() ? "" : " ") + v;
  }
  return s.empty() ? group_key(g.labels) : s;
}

std::string pct_ms(const GroupStats& g, Metric m, double p) {
  const HdrHistogram* h = g.histogram(m);
  if (!h || h->total_count() == 0) return "–";
  double v = double(h->value_at_percentile(p));
  return format_number("%.1f", is_time(m) ? v / 1000.0 : v);
}

// The groups a chart draws for one run: each group when there are several, else the total.
std::vector<std::pair<std::string, const GroupStats*>> chart_groups(const ReportRun& r,
                                                                    bool multi_run) {
  std::vector<std::pair<std::string, const GroupStats*>> out;
  std::string prefix = multi_run ? r.label + " " : "";
  if (r.result.groups.size() > 1) {
    for (const GroupResult& g : r.result.groups)
      out.push_back({prefix + group_name(g.stats), &g.stats});
  } else {
    out.push_back({multi_run ? r.label : std::string("all requests"), &r.result.total});
  }
  return out;
}

std::string spectrum_chart(const std::vector<ReportRun>& runs, Metric m) {
  std::vector<ChartSeries> series;
  for (const ReportRun& r : runs)
    for (auto [label, g] : chart_groups(r, runs.size() > 1)) {
      const HdrHistogram* h = g->histogram(m);
      if (!h || h->total_count() == 0) continue;
      ChartSeries s{label, {}};
      for (const auto& p : h->percentiles(5))
        s.points.push_back({p.percentile, is_time(m) ? double(p.value) / 1000.0 : double(p.value)});
      series.push_back(std::move(s));
    }
  if (series.empty()) return "";
  ChartSpec spec;
  spec.id = "spectrum-" + std::string(name(m));
  spec.title = std::string(name(m)) + " percentile spectrum";
  spec.x_label = "percentile";
  spec.y_label = std::string(name(m)) + " (" + std::string(unit(m)) + ")";
  spec.percentile_x = true;
  spec.width = 580;
  return svg_line_chart(spec, series);
}

std::string timeseries_chart(
    const std::vector<ReportRun>& runs, const char* id, const char* title, const char* y_label,
    const std::vector<std::pair<const char*, std::optional<double> (*)(const IntervalRow&)>>&
        fields) {
  std::vector<ChartSeries> series;
  for (const ReportRun& r : runs) {
    if (r.intervals.empty()) continue;
    for (const auto& [fname, getter] : fields) {
      ChartSeries s{(runs.size() > 1 ? r.label + " " : std::string()) + fname, {}};
      for (const IntervalRow& row : r.intervals)
        if (auto v = getter(row)) s.points.push_back({row.elapsed_s, *v});
      if (!s.points.empty()) series.push_back(std::move(s));
    }
  }
  if (series.empty()) return "";
  ChartSpec spec;
  spec.id = id;
  spec.title = title;
  spec.x_label = "elapsed (s)";
  spec.y_label = y_label;
  spec.width = 560;
  spec.height = 260;
  // Stage boundaries of every run drawn (the same instant once).
  for (const ReportRun& r : runs) {
    if (r.intervals.empty()) continue;
    std::vector<double> ends = stage_boundaries_s(r.result.run.scenario);
    for (size_t i = 0; i < ends.size(); ++i) {
      bool seen = false;
      for (double v : spec.vlines) seen = seen || std::fabs(v - ends[i]) < 1e-9;
      if (seen) continue;
      spec.vlines.push_back(ends[i]);
      spec.vline_labels.push_back(i + 1 < ends.size() ? "stage " + std::to_string(i + 2)
                                                      : std::string("hold"));
    }
  }
  return svg_line_chart(spec, series);
}

// The target's own /metrics series (docs/metrics.md "Target metrics"), one chart each beside our
// TTFT, at most kMaxTargetCharts of them (by name).
constexpr std::size_t kMaxTargetCharts = 16;
std::string target_charts(const std::vector<ReportRun>& runs) {
  std::set<std::string> names;
  for (const ReportRun& r : runs)
    for (const IntervalRow& row : r.intervals)
      for (const auto& [name, v] : row.target) names.insert(name);
  std::string out;
  std::size_t k = 0;
  for (const std::string& name : names) {
    if (k == kMaxTargetCharts) break;
    std::vector<ChartSeries> series;
    for (const ReportRun& r : runs) {
      ChartSeries cs{runs.size() > 1 ? r.label : std::string("server"), {}};
      for (const IntervalRow& row : r.intervals)
        if (auto it = row.target.find(name); it != row.target.end())
          cs.points.push_back({row.elapsed_s, it->second});
      if (!cs.points.empty()) series.push_back(std::move(cs));
    }
    if (series.empty()) continue;
    ChartSpec spec;
    spec.id = "ts-target-" + std::to_string(k++);
    spec.title = "target: " + name;
    spec.x_label = "elapsed (s)";
    spec.y_label = std::string(series_metric(name));
    spec.width = 560;
    spec.height = 260;
    out += svg_line_chart(spec, series);
  }
  return out;
}

void run_header(std::string& s, const ReportRun& r) {
  const RunInfo& info = r.result.run;
  std::string status(name(info.status));
  s += "<tr><td class=\"l\">" + html_escape(r.label) + "</td><td class=\"l status-" + status +
       "\">" + status + "</td><td>" + std::to_string(info.exit_code) + "</td><td class=\"l\">" +
       html_escape(info.started_at) + "</td><td>" + format_number("%.1f s", info.duration_s) +
       "</td><td>" + std::to_string(info.workers.size()) + "</td><td class=\"l\">" +
       html_escape(info.version) + "</td></tr>\n";
}

void warnings(std::string& s, const ReportRun& r) {
  const RunInfo& info = r.result.run;
  std::string who = html_escape(r.label) + ": ";
  if (info.client.saturated)
    s += "<div class=\"warn\">" + who + "the load generator was saturated (loop lag p99 " +
         format_number("%.1f ms", info.client.loop_lag_ms_p99) +
         "): its latencies include its own delay</div>\n";
  for (const WorkerInfo& w : info.workers)
    if (w.status == WorkerStatus::kLost)
      s += "<div class=\"warn\">" + who + "worker " + html_escape(w.id) + " (" +
           html_escape(w.host) + ") was lost during the run</div>\n";
  if (info.insecure)
    s += "<div class=\"warn\">" + who + "TLS certificate verification was off (--insecure)</div>\n";
  for (const std::string& w : info.warnings)
    s += "<div class=\"warn\">" + who + html_escape(w) + "</div>\n";
  // Findings (common/findings.h): what the numbers say and what to do about it.
  for (const Finding& f : r.result.findings)
    s += "<div class=\"finding " + html_escape(f.severity) + "\" data-rule=\"" +
         html_escape(f.rule) + "\">" + who + "<b>" + html_escape(f.rule) + "</b>: " +
         html_escape(f.message) + "<br><i>" + html_escape(f.advice) + "</i></div>\n";
}

void headline_row(std::string& s, const std::string& label, const RunResult& r, const GroupStats& g,
                  std::optional<double> cost, const std::vector<RatingTier>& tiers) {
  const Counters& c = g.counters;
  double secs = r.run.duration_s;
  auto rate = [&](double n) {
    return secs > 0 ? format_number("%.2f", n / secs) : std::string("–");
  };
  auto rating = rate_group(g, tiers);
  s += "<tr><td class=\"l\">" + html_escape(label) + "</td><td>" + std::to_string(c.requests) +
       "</td><td>" + std::to_string(c.ok) + "</td><td>" + std::to_string(c.failed) + "</td><td>" +
       std::to_string(c.client_cancelled) + "</td><td>" +
       (c.requests ? format_number("%.2f%%", 100.0 * double(c.failed) / double(c.requests)) : "–") +
       "</td><td>" + rate(double(c.requests)) + "</td><td>" + rate(double(c.output_tokens)) +
       "</td><td>" + rate(double(c.goodput)) + "</td><td>" + pct_ms(g, Metric::kTtft, 50) +
       "</td><td>" + pct_ms(g, Metric::kTtft, 99) + "</td><td>" + pct_ms(g, Metric::kTpot, 50) +
       "</td><td>" + pct_ms(g, Metric::kItl, 99) + "</td><td>" + pct_ms(g, Metric::kE2e, 50) +
       "</td><td>" + pct_ms(g, Metric::kE2e, 99) + "</td><td>" +
       (cost ? format_number("$%.4f", *cost) : "–") + "</td><td class=\"l rating-" +
       rating.value_or("none") + "\">" + rating.value_or("–") + "</td></tr>\n";
}

std::optional<double> get_rps(const IntervalRow& r) {
  return r.requests_per_s;
}
std::optional<double> get_tps(const IntervalRow& r) {
  return r.output_tokens_per_s;
}
std::optional<double> get_inflight(const IntervalRow& r) {
  return double(r.in_flight);
}
std::optional<double> get_p50(const IntervalRow& r) {
  return r.ttft_p50_ms;
}
std::optional<double> get_p99(const IntervalRow& r) {
  return r.ttft_p99_ms;
}
std::optional<double> get_errors(const IntervalRow& r) {
  return double(r.errors);
}

void sweep_section(std::string& s, const std::vector<SweepCurve>& sweeps) {
  if (sweeps.empty()) return;
  s += "<h2>Sweep</h2>\n";
  s += sweep_chart_svg(sweeps);
  s += "<table id=\"sweep\"><tr><th class=\"l\">sweep</th><th "
       "class=\"l\">level</th><th>throughput</th>"
       "<th>latency ms</th><th class=\"l\">SLO</th><th class=\"l\">note</th></tr>\n";
  std::string answers;
  for (const SweepCurve& c : sweeps) {
    if (c.answer.empty()) continue;
    answers += "<ul class=\"sweep-answer\" data-sweep=\"" + html_escape(c.label) + "\">";
    for (const std::string& line : c.answer) answers += "<li>" + html_escape(line) + "</li>";
    answers += "</ul>\n";
  }
  for (const SweepCurve& c : sweeps)
    for (size_t i = 0; i < c.points.size(); ++i) {
      const SweepCurvePoint& p = c.points[i];
      std::string note;
      if (c.knee && *c.knee == i) note = "capacity (the answer: most goodput)";
      if (c.highest_passing && *c.highest_passing == i)
        note += std::string(note.empty() ? "" : ", ") + "highest passing level";
      if (c.saturated_at && *c.saturated_at == p.level)
        note += std::string(note.empty() ? "" : ", ") + "saturation (knee)";
      s += "<tr" + std::string(c.knee && *c.knee == i ? " class=\"knee\"" : "") +
           "><td class=\"l\">" + html_escape(c.label) + "</td><td class=\"l\">" +
           html_escape(sweep_level_text(p.level, c.concurrency)) + "</td><td>" +
           format_number("%.2f", p.throughput) + (c.tokens_per_s ? " tok/s" : " req/s") +
           "</td><td>" + (p.latency_ms ? format_number("%.1f", *p.latency_ms) : "–") + " <small>" +
           html_escape(c.latency_variable) + "</small></td><td class=\"l\">" +
           (p.passed ? "passed" : "<b>failed</b>") + "</td><td class=\"l\">" + note +
           "</td></tr>\n";
    }
  s += "</table>\n" + answers;
}

}  // namespace

// What the servers said about their own work (docs/metrics.md "Server-reported metrics"): the
// server.* percentiles per group, the prefix-cache hit rate and the token-count disagreements.
// Nothing when no run holds a server.* value.
void server_section(std::string& s, const std::vector<ReportRun>& runs) {
  std::string rows;
  for (const ReportRun& r : runs) {
    for (const GroupResult& g : r.result.groups) {
      const Counters& c = g.stats.counters;
      for (const MetricSummary& m : summarize_all(g.stats)) {
        if (!m.name.starts_with("server.")) continue;
        auto num = [&](double v) { return format_number(m.unit == "ms" ? "%.1f" : "%.0f", v); };
        rows += "<tr><td class=\"l\">" + html_escape(r.label) + "</td><td class=\"l\">" +
                html_escape(group_name(g.stats)) + "</td><td class=\"l\">" + m.name +
                "</td><td class=\"l\">" + std::string(m.unit) + "</td><td>" +
                std::to_string(m.count) + "</td><td>" + num(m.p50) + "</td><td>" + num(m.p90) +
                "</td><td>" + num(m.p99) + "</td><td>" + num(m.max) + "</td></tr>\n";
      }
      const auto hit = c.prefix_cache_hit_rate();
      if (hit || c.tokens_mismatch > 0) {
        rows += "<tr><td class=\"l\">" + html_escape(r.label) + "</td><td class=\"l\">" +
                html_escape(group_name(g.stats)) + "</td><td class=\"l\" colspan=\"7\">" +
                (hit ? "prefix-cache hit rate " + format_number("%.1f", *hit * 100) + " % (" +
                           std::to_string(c.cached_tokens) + " of " +
                           std::to_string(c.cache_prompt_tokens) + " prompt tokens)"
                     : std::string()) +
                (hit && c.tokens_mismatch > 0 ? "; " : "") +
                (c.tokens_mismatch > 0 ? std::to_string(c.tokens_mismatch) +
                                             " requests where the server's output-token count "
                                             "differs from ours"
                                       : std::string()) +
                "</td></tr>\n";
      }
    }
  }
  if (rows.empty()) return;
  s += "<h2>Server-reported</h2>\n<table id=\"server\"><tr><th class=\"l\">run</th><th "
       "class=\"l\">group</th><th class=\"l\">metric</th><th class=\"l\">unit</th><th>count</th>"
       "<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n" +
       rows + "</table>\n";
}

std::vector<double> stage_boundaries_s(const nlohmann::json& scenario) {
  std::vector<double> out;
  if (!scenario.is_object() || !scenario.contains("load")) return out;
  const nlohmann::json& load = scenario["load"];
  if (!load.is_object() || !load.contains("stages") || !load["stages"].is_array()) return out;
  double t = 0;
  for (const nlohmann::json& st : load["stages"]) {
    if (!st.is_object() || !st.contains("duration") || !st["duration"].is_string()) return {};
    auto d = parse_duration_ns(st["duration"].get<std::string>());
    if (!d || *d <= 0) return {};
    t += double(*d) / 1e9;
    out.push_back(t);
  }
  return out;
}

// One row of the client health box: the run's figures ("all") or one worker's.
void client_health_row(std::string& s, const std::string& run, const std::string& who,
                       const std::string& loops, const WorkerHealth& h) {
  auto mib = [](int64_t b) {
    return b > 0 ? format_number("%.1f", double(b) / (1024.0 * 1024.0)) : std::string("–");
  };
  s += "<tr><td class=\"l\">" + html_escape(run) + "</td><td class=\"l\">" + html_escape(who) +
       "</td><td>" + loops + "</td><td>" + mib(h.peak_rss_bytes) + "</td><td>" +
       format_number("%.0f%%", 100.0 * h.cpu_busy) + "</td><td>" +
       format_number("%.1f%%", 100.0 * h.steal) + "</td><td>" +
       format_number("%.2f", h.loop_lag_ms_p99) + "</td><td>" +
       format_number("%.2f", h.reads_per_token) + "</td><td class=\"l\">" +
       html_escape(h.timestamps) + "</td><td>" +
       format_number("%.2f%%", 100.0 * h.timing_uncertain_share) + "</td></tr>\n";
}

// The load generator's own health beside what it measured: the run, then each worker.
void client_health_section(std::string& s, const std::vector<ReportRun>& runs) {
  s += "<h2>Client health</h2>\n<table id=\"client-health\"><tr><th class=\"l\">run</th>"
       "<th class=\"l\">worker</th><th>loops</th><th>peak RSS MiB</th><th>CPU busy</th>"
       "<th>steal</th><th>loop lag p99 ms</th><th>reads/token</th><th "
       "class=\"l\">timestamps</th><th>uncertain</th></tr>\n";
  for (const ReportRun& r : runs) {
    const RunInfo& info = r.result.run;
    const ClientTiming& t = info.client.timing;
    const int64_t out = r.result.total.counters.output_tokens;
    WorkerHealth all = make_worker_health(t, out, info.client.cpu_busy, info.client.steal,
                                          info.client.peak_rss_bytes);
    all.loop_lag_ms_p99 = info.client.loop_lag_ms_p99;  // kept when a summary has no histogram
    int64_t loops = 0;
    for (const WorkerInfo& w : info.workers) loops += w.threads;
    client_health_row(s, r.label, info.client.saturated ? "all (SATURATED)" : "all",
                      std::to_string(loops), all);
    for (const WorkerInfo& w : info.workers)
      client_health_row(s, r.label, w.id + " on " + w.host, std::to_string(w.threads), w.health);
  }
  s += "</table>\n";
}

std::string html_report(const std::vector<ReportRun>& runs, const std::vector<RatingTier>& tiers,
                        const std::vector<SweepCurve>& sweeps) {
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  s += "<title>llmload report</title>\n<style>" + std::string(kStyle) + "</style></head><body>\n";
  s += "<h1>llmload report</h1>\n";
  s += "<table id=\"runs\"><tr><th class=\"l\">run</th><th class=\"l\">status</th><th>exit</th>"
       "<th class=\"l\">started</th><th>duration</th><th>workers</th><th "
       "class=\"l\">version</th></tr>\n";
  for (const ReportRun& r : runs) run_header(s, r);
  s += "</table>\n";
  for (const ReportRun& r : runs) warnings(s, r);

  s += "<h2>Headline</h2>\n<table id=\"headline\"><tr><th class=\"l\">run / "
       "group</th><th>requests</th>"
       "<th>ok</th><th>failed</th><th>client_cancelled</th><th>error rate</th>"
       "<th>req/s</th><th>tokens/s</th>"
       "<th>goodput/s</th><th>TTFT p50 ms</th><th>TTFT p99 ms</th><th>TPOT p50 ms</th>"
       "<th>ITL p99 ms</th><th>e2e p50 ms</th><th>e2e p99 ms</th><th>cost</th><th "
       "class=\"l\">rating</th></tr>\n";
  for (const ReportRun& r : runs) {
    headline_row(s, runs.size() > 1 ? r.label : "total", r.result, r.result.total,
                 r.result.cost_usd, tiers);
    if (r.result.groups.size() > 1)
      for (const GroupResult& g : r.result.groups)
        headline_row(s,
                     (runs.size() > 1 ? r.label + " · " : std::string("· ")) + group_name(g.stats),
                     r.result, g.stats, g.cost_usd, tiers);
  }
  s += "</table>\n";

  sweep_section(s, sweeps);

  s += "<h2>Latency percentile spectra</h2>\n<div class=\"charts\">\n";
  for (Metric m : {Metric::kTtft, Metric::kItl, Metric::kTpot, Metric::kE2e})
    s += spectrum_chart(runs, m);
  s += "</div>\n";

  std::string ts;
  ts += timeseries_chart(runs, "ts-throughput", "requests/s per interval", "requests/s",
                         {{"requests/s", get_rps}});
  ts += timeseries_chart(runs, "ts-tokens", "output tokens/s per interval", "tokens/s",
                         {{"tokens/s", get_tps}});
  ts += timeseries_chart(runs, "ts-inflight", "requests in flight", "requests",
                         {{"in flight", get_inflight}});
  ts += timeseries_chart(runs, "ts-ttft", "TTFT per interval", "ms",
                         {{"p50", get_p50}, {"p99", get_p99}});
  ts += target_charts(runs);
  ts += timeseries_chart(runs, "ts-errors", "errors per interval", "errors",
                         {{"errors", get_errors}});
  if (!ts.empty()) s += "<h2>Over time</h2>\n<div class=\"charts\">\n" + ts + "</div>\n";

  std::string errs;
  for (const ReportRun& r : runs)
    for (ErrorKind k : kAllErrorKinds) {
      int64_t n = r.result.total.counters.errors[size_t(k)];
      if (n == 0) continue;
      std::string samples;
      for (const std::string& m : r.result.total.error_samples(k))
        samples += "<div><code>" + html_escape(m) + "</code></div>";
      errs += "<tr><td class=\"l\">" + html_escape(r.label) + "</td><td class=\"l\">" +
              std::string(name(k)) + "</td><td>" + std::to_string(n) + "</td><td class=\"l\">" +
              samples + "</td></tr>\n";
    }
  s += "<h2>Errors</h2>\n";
  s += errs.empty() ? "<p id=\"errors\">No request failed.</p>\n"
                    : "<table id=\"errors\"><tr><th class=\"l\">run</th><th "
                      "class=\"l\">kind</th><th>count</th>"
                      "<th class=\"l\">samples</th></tr>\n" +
                          errs + "</table>\n";

  client_health_section(s, runs);

  s += "<h2>Groups</h2>\n<table id=\"groups\"><tr><th class=\"l\">run</th><th "
       "class=\"l\">labels</th>"
       "<th>requests</th><th>output tokens</th><th>cost</th></tr>\n";
  for (const ReportRun& r : runs)
    for (const GroupResult& g : r.result.groups)
      s += "<tr><td class=\"l\">" + html_escape(r.label) + "</td><td class=\"l\">" +
           html_escape(group_key(g.stats.labels)) + "</td><td>" +
           std::to_string(g.stats.counters.requests) + "</td><td>" +
           std::to_string(g.stats.counters.output_tokens) + "</td><td>" +
           (g.cost_usd ? format_number("$%.4f", *g.cost_usd) : "–") + "</td></tr>\n";
  s += "</table>\n";
  server_section(s, runs);
  s +=
      "<p style=\"color:#888;font-size:12px\">Metric definitions: docs/metrics.md. Percentiles are "
      "exact values of the merged HdrHistograms (1 µs resolution, 3 significant digits).</p>\n";
  s += "</body></html>\n";
  return s;
}

Expected<ReportRun> load_report_run(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path summary = fs::is_directory(path, ec) ? fs::path(path) / "summary.json" : fs::path(path);
  auto result = read_summary(summary.string());
  if (!result) return Error{result.error()};
  ReportRun run;
  run.result = std::move(result.value());
  run.label =
      run.result.run.id.empty() ? summary.parent_path().filename().string() : run.result.run.id;
  fs::path ts = summary.parent_path() / "timeseries.csv";
  if (fs::exists(ts, ec)) {
    auto text = read_file(ts.string());
    if (!text) return Error{text.error()};
    auto rows = parse_timeseries_csv(*text, ts.string());
    if (!rows) return Error{rows.error()};
    run.intervals = std::move(rows.value());
  }
  return run;
}

Expected<ReportSweep> load_report_sweep(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  const std::string csv_path = (root / "sweep.csv").string();
  auto text = read_file(csv_path);
  if (!text) return Error{text.error()};
  auto csv = parse_sweep_csv(*text, csv_path);
  if (!csv) return Error{csv.error()};
  const bool concurrency = csv->concurrency;
  SweepOutcome o;
  for (const SweepCsvRow& row : csv->rows) {
    SweepStep step;
    step.level = row.level;
    step.exit_code = row.exit_code;
    step.workers_asked = row.workers_asked;
    // The step's directory beside sweep.csv (the column holds the path as the sweep saw it).
    fs::path step_dir = root / fs::path(row.results).filename();
    std::error_code ec;
    if (!fs::exists(step_dir / "summary.json", ec)) continue;
    auto run = load_report_run(step_dir.string());
    if (!run) return Error{run.error()};
    run->label = sweep_level_text(step.level, concurrency);
    step.result = run->result;
    step.result.intervals = run->intervals;
    step.out_dir = step_dir.string();
    o.steps.push_back(std::move(step));
  }
  if (o.steps.empty()) return Error{csv_path + ": no step has results (summary.json)"};
  std::stable_sort(o.steps.begin(), o.steps.end(),
                   [](const SweepStep& a, const SweepStep& b) { return a.level < b.level; });
  choose_answer(o);
  std::vector<SloAssertion> asserts;
  for (const AssertionResult& a : o.steps.front().result.assertions)
    if (auto parsed = parse_slo_expr(a.expr)) asserts.push_back(*parsed);
  std::string label = fs::absolute(root).lexically_normal().filename().string();
  if (label.empty())
    label = fs::absolute(root).lexically_normal().parent_path().filename().string();
  ReportSweep out;
  out.curve = make_sweep_curve(o, concurrency, asserts, label);
  for (SweepStep& st : o.steps) {
    std::vector<IntervalRow> rows = std::move(st.result.intervals);
    out.steps.push_back(
        ReportRun{sweep_level_text(st.level, concurrency), std::move(st.result), std::move(rows)});
  }
  return out;
}

}  // namespace llmload::analysis
