#include "common/results.h"

#include <array>
#include <ctime>

#include "common/number_format.h"

namespace llmload {
namespace {

constexpr std::array<std::string_view, 4> kRunStatusNames = {"completed", "aborted", "partial",
                                                             "failed"};
constexpr std::array<std::string_view, 2> kWorkerStatusNames = {"ok", "lost"};

double per_second(int64_t n, double seconds) {
  return seconds > 0 ? double(n) / seconds : 0.0;
}

}  // namespace

std::string_view name(RunStatus s) {
  return kRunStatusNames[static_cast<std::size_t>(s)];
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
  for (std::size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (kRunStatusNames[i] == s) return static_cast<RunStatus>(i);
  }
  return std::nullopt;
}

std::string ClientHealth::judge() {
  if (timing.loop_lag_us.total_count() > 0) {
    loop_lag_ms_p99 = double(timing.loop_lag_us.value_at_percentile(99.0)) / 1000.0;
  }
  std::string why;
  if (loop_lag_ms_p99 > kSaturatedLoopLagMs) {
    why = format_number("event-loop lag p99 %.1f ms > 10 ms", loop_lag_ms_p99);
  }
  if (cpu_busy > kSaturatedCpuBusy) {
    why += (why.empty() ? "" : " and ") + format_number("CPU busy %.2f > 0.9", cpu_busy);
  }
  saturated = !why.empty();
  return why;
}

double ClientHealth::uncertain_window_ms_p99() const {
  return double(timing.uncertain_window_us.value_at_percentile(99.0)) / 1000.0;
}

WorkerHealth make_worker_health(const ClientTiming& timing, int64_t output_tokens, double cpu_busy,
                                double steal, int64_t peak_rss_bytes) {
  WorkerHealth h;
  h.peak_rss_bytes = peak_rss_bytes;
  h.cpu_busy = cpu_busy;
  h.steal = steal;
  if (timing.loop_lag_us.total_count() > 0)
    h.loop_lag_ms_p99 = double(timing.loop_lag_us.value_at_percentile(99.0)) / 1000.0;
  if (output_tokens > 0) h.reads_per_token = double(timing.token_reads) / double(output_tokens);
  h.timestamps = std::string(timing.timestamps());
  h.timing_uncertain_share = timing.uncertain_share();
  return h;
}

std::string_view name(WorkerStatus s) {
  return kWorkerStatusNames[static_cast<std::size_t>(s)];
}

std::optional<WorkerStatus> parse_worker_status(std::string_view s) {
  for (std::size_t i = 0; i < kWorkerStatusNames.size(); ++i) {
    if (kWorkerStatusNames[i] == s) return static_cast<WorkerStatus>(i);
  }
  return std::nullopt;
}

IntervalRow make_interval_row(const GroupStats& total, double elapsed_s, double interval_s,
                              int64_t in_flight) {
  IntervalRow row;
  row.elapsed_s = elapsed_s;
  row.interval_s = interval_s;
  row.requests = total.counters.requests;
  row.ok = total.counters.ok;
  row.failed = total.counters.failed;
  row.errors = total.counters.failed;
  row.client_cancelled = total.counters.client_cancelled;
  row.in_flight = in_flight;
  row.requests_per_s = per_second(total.counters.requests, interval_s);
  row.output_tokens_per_s = per_second(total.counters.output_tokens, interval_s);
  if (const HdrHistogram* h = total.histogram(Metric::kTtft); h && h->total_count() > 0) {
    row.ttft_p50_ms = double(h->value_at_percentile(50.0)) / 1000.0;
    row.ttft_p99_ms = double(h->value_at_percentile(99.0)) / 1000.0;
  }
  return row;
}

double RunResult::requests_per_s() const {
  return per_second(total.counters.requests, run.duration_s);
}
double RunResult::output_tokens_per_s() const {
  return per_second(total.counters.output_tokens, run.duration_s);
}
double RunResult::goodput_per_s() const {
  return per_second(total.counters.goodput, run.duration_s);
}

void apply_prices(RunResult& result, const PriceTable& prices) {
  result.cost_usd.reset();
  for (auto& g : result.groups) {
    g.cost_usd.reset();
    auto model = g.stats.labels.find("model");
    if (model == g.stats.labels.end()) continue;
    auto price = prices.find(model->second);
    if (price == prices.end()) continue;
    double cost = double(g.stats.counters.input_tokens) * price->second.input_per_mtok / 1e6 +
                  double(g.stats.counters.output_tokens) * price->second.output_per_mtok / 1e6;
    g.cost_usd = cost;
    result.cost_usd = result.cost_usd.value_or(0.0) + cost;
  }
}

void recompute_total(RunResult& result) {
  result.total = GroupStats{};
  for (const auto& g : result.groups) result.total.merge(g.stats);
}

MetricSummary summarize(const HdrHistogram& h, std::string_view metric_name,
                        const MetricUnits& units, int64_t overflow) {
  MetricSummary s;
  s.name = std::string(metric_name);
  s.unit = units.unit;
  s.hdr_unit = units.hdr_unit;
  s.count = h.total_count();
  s.overflow = overflow;
  // The number contract: for times, the histogram's own value / 1000, never rounded.
  const double scale = units.is_time ? 1000.0 : 1.0;
  auto at = [&](double p) { return double(h.value_at_percentile(p)) / scale; };
  s.min = double(h.min()) / scale;
  s.max = double(h.max()) / scale;
  s.mean = h.mean() / scale;
  s.stddev = h.stddev() / scale;
  s.p50 = at(50.0);
  s.p90 = at(90.0);
  s.p95 = at(95.0);
  s.p99 = at(99.0);
  s.p999 = at(99.9);
  s.hdr = h.to_base64();
  return s;
}

MetricSummary summarize(const HdrHistogram& h, Metric m, int64_t overflow) {
  return summarize(h, name(m), units_of(m), overflow);
}

std::vector<MetricSummary> summarize_all(const GroupStats& stats) {
  std::vector<MetricSummary> out;
  for (Metric m : kAllMetrics) {
    const HdrHistogram* h = stats.histogram(m);
    int64_t ov = stats.overflow(m);
    if ((h && h->total_count() > 0) || ov > 0) {
      out.push_back(h ? summarize(*h, m, ov) : summarize(make_histogram(m), m, ov));
    }
  }
  for (const auto& [n, h] : stats.server_histograms()) {
    int64_t ov = stats.server_overflow(n);
    if (h.total_count() > 0 || ov > 0) out.push_back(summarize(h, n, *units_of_name(n), ov));
  }
  return out;
}

std::string format_iso8601_utc(int64_t wall_ns) {
  int64_t secs = wall_ns / 1'000'000'000;
  int64_t ms = (wall_ns % 1'000'000'000) / 1'000'000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

}  // namespace llmload
