#include "analysis/observe/prometheus.h"

#include <cstdio>
#include <set>
#include <utility>

#include "common/number_format.h"

namespace llmload::analysis {
namespace {

// Every stage of a request as a histogram: the response (ttft, itl, tpot, e2e, ttfb) and the
// setup before it (connect, tls, and rate mode's queue).
constexpr Metric kExposed[] = {Metric::kTtft,    Metric::kItl, Metric::kTpot, Metric::kE2e,
                               Metric::kTtfb,    Metric::kConnect, Metric::kTls,
                               Metric::kQueue};

// `{a="x",b="y"` without the closing brace, so callers can append more labels.
std::string open_labels(const Labels& labels) {
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) s += ',';
    first = false;
    s += prometheus_label_name(k) + "=\"" + prometheus_label_value(v) + "\"";
  }
  return s;
}

std::string with(const std::string& open, const std::string& extra) {
  if (extra.empty()) return open == "{" ? std::string() : open + "}";
  return open + (open == "{" ? "" : ",") + extra + "}";
}

void header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// A server.* metric as a Prometheus histogram (docs/prometheus.md): times in seconds
// (llmload_server_eval_seconds), rates per second (llmload_server_eval_tokens_per_second),
// counts as they are (llmload_server_prompt_tokens).
struct ServerSeries {
  std::string base;
  const std::vector<double>* bounds;
  double scale;  // histogram value → exposed unit
};
ServerSeries server_series(std::string_view metric) {
  static const std::vector<double> seconds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,   5,    10,    30,   60,  120};
  static const std::vector<double> tokens = {1,   2,    5,    10,   20,    50,    100,   200,
                                             500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
  static const std::vector<double> rates = {1,   2,   5,    10,   20,   50,    100,
                                            200, 500, 1000, 2000, 5000, 10000, 50000};
  std::string base = "llmload_server_" + std::string(metric.substr(7));  // after "server."
  auto ends = [&](std::string_view suffix) {
    return base.size() > suffix.size() && base.ends_with(suffix);
  };
  if (ends("_ms")) return {base.substr(0, base.size() - 3) + "_seconds", &seconds, 1e-6};
  if (ends("_per_s")) return {base.substr(0, base.size() - 6) + "_per_second", &rates, 1.0};
  return {base, &tokens, 1.0};
}

void append_server_histograms(std::string& out, const std::vector<GroupStats>& groups) {
  std::set<std::string, std::less<>> names;
  for (const GroupStats& g : groups)
    for (const auto& [n, h] : g.server_histograms()) names.insert(n);
  for (const std::string& n : names) {
    const ServerSeries series = server_series(n);
    header(out, series.base, "histogram",
           ("what the server reported: " + n + " (docs/metrics.md)").c_str());
    for (const GroupStats& g : groups) {
      const std::string open = open_labels(g.labels);
      auto it = g.server_histograms().find(n);
      std::vector<HdrHistogram::Bucket> buckets;
      int64_t total = 0;
      double sum = 0;
      if (it != g.server_histograms().end()) {
        buckets = it->second.recorded_buckets();
        total = it->second.total_count();
        sum = total ? it->second.mean() * double(total) * series.scale : 0.0;
      }
      size_t bi = 0;
      int64_t cumulative = 0;
      for (double le : *series.bounds) {
        while (bi < buckets.size() && double(buckets[bi].value) * series.scale <= le)
          cumulative += buckets[bi++].count;
        out += series.base + "_bucket" + with(open, "le=\"" + format_number("%.9g", le) + "\"") +
               " " + std::to_string(cumulative) + "\n";
      }
      out +=
          series.base + "_bucket" + with(open, "le=\"+Inf\"") + " " + std::to_string(total) + "\n";
      out += series.base + "_sum" + with(open, "") + " " + format_number("%.9g", sum) + "\n";
      out += series.base + "_count" + with(open, "") + " " + std::to_string(total) + "\n";
    }
  }
}

}  // namespace

const std::vector<double>& prometheus_buckets(Metric m) {
  static const std::vector<double> latency = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                              0.3,   0.5,  0.75,  1,    1.5,   2,   3,    5,
                                              7.5,   10,   15,    20,   30,    60,  120,  300};
  static const std::vector<double> token_gap = {0.0005, 0.001, 0.002, 0.005, 0.01,  0.015, 0.02,
                                                0.025,  0.03,  0.04,  0.05,  0.075, 0.1,   0.15,
                                                0.2,    0.3,   0.5,   1,     2.5};
  // Connection setup and scheduling lateness are sub-millisecond on a LAN, seconds when broken.
  static const std::vector<double> setup = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                            1,      2.5,     5,      10,    30};
  if (m == Metric::kConnect || m == Metric::kTls || m == Metric::kQueue) return setup;
  return (m == Metric::kItl || m == Metric::kTpot) ? token_gap : latency;
}

std::string prometheus_label_name(const std::string& key) {
  std::string s;
  for (char c : key) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    s += ok ? c : '_';
  }
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) s = "_" + s;
  while (s.size() >= 2 && s[0] == '_' && s[1] == '_') s.erase(0, 1);
  return s;
}

std::string prometheus_label_value(const std::string& value) {
  std::string s;
  for (char c : value) {
    if (c == '\\')
      s += "\\\\";
    else if (c == '"')
      s += "\\\"";
    else if (c == '\n')
      s += "\\n";
    else
      s += c;
  }
  return s;
}

std::string prometheus_exposition(const std::vector<GroupStats>& groups,
                                  const PrometheusGauges& gauges) {
  std::string out;
  for (Metric m : kExposed) {
    std::string base = "llmload_" + std::string(name(m)) + "_seconds";
    header(out, base, "histogram", "llmload client-measured latency, seconds (docs/metrics.md)");
    for (const GroupStats& g : groups) {
      std::string open = open_labels(g.labels);
      const HdrHistogram* h = g.histogram(m);
      std::vector<HdrHistogram::Bucket> buckets;
      if (h) buckets = h->recorded_buckets();
      int64_t total = h ? h->total_count() : 0;
      size_t bi = 0;
      int64_t cumulative = 0;
      for (double le : prometheus_buckets(m)) {
        double le_us = le * 1e6;
        while (bi < buckets.size() && double(buckets[bi].value) <= le_us)
          cumulative += buckets[bi++].count;
        out += base + "_bucket" + with(open, "le=\"" + format_number("%.9g", le) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += base + "_bucket" + with(open, "le=\"+Inf\"") + " " + std::to_string(total) + "\n";
      double sum_s = h && total ? h->mean() * double(total) / 1e6 : 0.0;
      out += base + "_sum" + with(open, "") + " " + format_number("%.9g", sum_s) + "\n";
      out += base + "_count" + with(open, "") + " " + std::to_string(total) + "\n";
    }
  }

  header(out, "llmload_requests_total", "counter", "Measured requests finished, by outcome");
  for (const GroupStats& g : groups) {
    std::string open = open_labels(g.labels);
    out += "llmload_requests_total" + with(open, "outcome=\"ok\"") + " " +
           std::to_string(g.counters.ok) + "\n";
    out += "llmload_requests_total" + with(open, "outcome=\"failed\"") + " " +
           std::to_string(g.counters.failed) + "\n";
    out += "llmload_requests_total" + with(open, "outcome=\"client_cancelled\"") + " " +
           std::to_string(g.counters.client_cancelled) + "\n";
  }
  header(out, "llmload_errors_total", "counter", "Failed requests by error kind");
  for (const GroupStats& g : groups) {
    std::string open = open_labels(g.labels);
    for (ErrorKind k : kAllErrorKinds)
      out += "llmload_errors_total" + with(open, "kind=\"" + std::string(name(k)) + "\"") + " " +
             std::to_string(g.counters.errors[size_t(k)]) + "\n";
  }
  header(out, "llmload_output_tokens_source_requests_total", "counter",
         "Requests by where their output_tokens came from (usage, counted, tokenizer)");
  for (const GroupStats& g : groups) {
    std::string open = open_labels(g.labels);
    const std::pair<const char*, int64_t> sources[] = {{"usage", g.counters.tokens_from_usage},
                                                       {"counted", g.counters.tokens_counted},
                                                       {"tokenizer", g.counters.tokens_tokenized}};
    for (const auto& [src, n] : sources)
      out += "llmload_output_tokens_source_requests_total" +
             with(open, "source=\"" + std::string(src) + "\"") + " " + std::to_string(n) + "\n";
  }
  struct CounterDef {
    const char* name;
    const char* help;
    int64_t Counters::*field;
  };
  static const CounterDef defs[] = {
      {"llmload_output_tokens_total", "Output tokens received", &Counters::output_tokens},
      {"llmload_input_tokens_total", "Input tokens sent (where known)", &Counters::input_tokens},
      {"llmload_retries_total", "Re-sends after a stale keep-alive connection", &Counters::retries},
      {"llmload_dropped_total", "Rate-mode arrivals not started (max in flight)",
       &Counters::dropped},
      {"llmload_goodput_requests_total", "Requests that met every per-request SLO",
       &Counters::goodput},
      {"llmload_server_tokens_mismatch_total",
       "Requests whose server output-token count differs from ours", &Counters::tokens_mismatch},
      {"llmload_server_cached_tokens_total", "Prompt tokens the server served from its cache",
       &Counters::cached_tokens},
      {"llmload_server_cache_prompt_tokens_total",
       "Server prompt tokens of the requests that reported a cached count",
       &Counters::cache_prompt_tokens},
  };
  for (const CounterDef& d : defs) {
    header(out, d.name, "counter", d.help);
    for (const GroupStats& g : groups)
      out += std::string(d.name) + with(open_labels(g.labels), "") + " " +
             std::to_string(g.counters.*d.field) + "\n";
  }
  append_server_histograms(out, groups);
  header(out, "llmload_in_flight_requests", "gauge", "Requests in flight now, all workers");
  out += "llmload_in_flight_requests " + std::to_string(gauges.in_flight) + "\n";
  header(out, "llmload_workers_alive", "gauge", "Workers attached and heard from");
  out += "llmload_workers_alive " + std::to_string(gauges.workers_alive) + "\n";
  header(out, "llmload_loop_lag_seconds", "gauge", "Worst event-loop lag in the last interval");
  out += "llmload_loop_lag_seconds " + format_number("%.9g", gauges.loop_lag_seconds) + "\n";
  return out;
}

std::string prometheus_process_metrics(int64_t resident_bytes, double cpu_seconds) {
  std::string out;
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes");
  out += "process_resident_memory_bytes " + std::to_string(resident_bytes) + "\n";
  header(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds");
  out += "process_cpu_seconds_total " + format_number("%.9g", cpu_seconds) + "\n";
  return out;
}

}  // namespace llmload::analysis
