#include "analysis/gates/merge.h"

#include <algorithm>
#include <map>

#include "common/clock.h"
#include "common/findings.h"

namespace llmload::analysis {
namespace {

std::string load_mode(const RunResult& r) {
  const nlohmann::json& s = r.run.scenario;
  if (s.is_object() && s.contains("load") && s["load"].is_object() && s["load"].contains("mode") &&
      s["load"]["mode"].is_string())
    return s["load"]["mode"].get<std::string>();
  return "";
}

int status_rank(RunStatus s) {
  switch (s) {
    case RunStatus::kFailed:
      return 3;
    case RunStatus::kAborted:
      return 2;
    case RunStatus::kPartial:
      return 1;
    case RunStatus::kCompleted:
      return 0;
  }
  return 0;
}

}  // namespace

Expected<RunResult> merge_results(const std::vector<MergeInput>& inputs, const MergeOptions& opts) {
  if (inputs.empty()) return Error{"merge: no input"};
  std::string mode = load_mode(inputs[0].result);
  for (const MergeInput& in : inputs) {
    std::string m = load_mode(in.result);
    if (!mode.empty() && !m.empty() && m != mode)
      return Error{"merge: " + in.source + " ran in " + m + " mode but " + inputs[0].source +
                   " in " + mode +
                   " mode: their ttft and e2e are measured from different starts (intended vs "
                   "actual) and cannot be merged"};
  }

  RunResult out;
  out.run.id = "merged-" + format_iso8601_utc(wall_now_ns());
  out.run.version = LLMLOAD_VERSION;
  out.run.status = RunStatus::kCompleted;
  out.run.command = "llmload merge";
  out.run.scenario = inputs[0].result.run.scenario;
  out.run.seed = inputs[0].result.run.seed;
  out.run.host = inputs[0].result.run.host;
  out.run.started_at = inputs[0].result.run.started_at;

  std::map<std::string, size_t> group_index;  // group_key -> index in out.groups
  double lag_floor_ms = 0;
  bool any_saturated = false;
  for (const MergeInput& in : inputs) {
    const RunResult& r = in.result;
    if (status_rank(r.run.status) > status_rank(out.run.status)) out.run.status = r.run.status;
    // ISO-8601 UTC strings of one format order as text.
    if (!r.run.started_at.empty() &&
        (out.run.started_at.empty() || r.run.started_at < out.run.started_at))
      out.run.started_at = r.run.started_at;
    out.run.duration_s = opts.concurrent ? std::max(out.run.duration_s, r.run.duration_s)
                                         : out.run.duration_s + r.run.duration_s;
    out.run.insecure = out.run.insecure || r.run.insecure;
    for (const WorkerInfo& w : r.run.workers) out.run.workers.push_back(w);
    // Counts and histograms add up exactly; the busiest worker stays the busiest. A stated lag
    // p99 without its histogram (a summary from before the histograms) is kept as a floor.
    ClientHealth& client = out.run.client;
    client.timing.merge(r.run.client.timing);
    if (r.run.client.timing.loop_lag_us.total_count() == 0)
      lag_floor_ms = std::max(lag_floor_ms, r.run.client.loop_lag_ms_p99);
    client.cpu_busy = std::max(client.cpu_busy, r.run.client.cpu_busy);
    client.steal = std::max(client.steal, r.run.client.steal);
    client.peak_rss_bytes = std::max(client.peak_rss_bytes, r.run.client.peak_rss_bytes);
    any_saturated = any_saturated || r.run.client.saturated;
    for (const std::string& w : r.run.warnings) out.run.warnings.push_back(in.source + ": " + w);
    if (!r.assertions.empty())
      out.run.warnings.push_back(in.source + ": its " + std::to_string(r.assertions.size()) +
                                 " assertion outcomes applied to that run alone and are not "
                                 "carried into the merge");

    out.total.merge(r.total);
    for (const GroupResult& g : r.groups) {
      std::string key = group_key(g.stats.labels);
      auto [it, fresh] = group_index.emplace(key, out.groups.size());
      if (fresh) {
        out.groups.push_back(GroupResult{GroupStats(g.stats.labels), std::nullopt});
      }
      GroupResult& dst = out.groups[it->second];
      dst.stats.merge(g.stats);
      if (g.cost_usd) dst.cost_usd = dst.cost_usd.value_or(0) + *g.cost_usd;
    }
    if (r.cost_usd) out.cost_usd = out.cost_usd.value_or(0) + *r.cost_usd;
    out.run.merged_from.push_back(MergeSource{in.source, r.run.id, r.run.started_at,
                                              r.run.duration_s, r.run.status,
                                              r.total.counters.requests});
  }
  // An input that measured itself is in the merge: the merge says so even when the merged
  // figures stay under the thresholds.
  out.run.client.judge();
  out.run.client.loop_lag_ms_p99 = std::max(out.run.client.loop_lag_ms_p99, lag_floor_ms);
  out.run.client.saturated = any_saturated || out.run.client.saturated ||
                             out.run.client.loop_lag_ms_p99 > kSaturatedLoopLagMs;
  out.run.exit_code = 0;
  out.findings = find_findings(out);
  return out;
}

HdrLog merge_hdr_logs(const std::vector<HdrLog>& logs) {
  HdrLog out;
  for (const HdrLog& log : logs)
    for (const HdrHistogram& h : log.intervals) out.intervals.push_back(h);
  std::stable_sort(out.intervals.begin(), out.intervals.end(),
                   [](const HdrHistogram& a, const HdrHistogram& b) {
                     return a.start_time_ms < b.start_time_ms;
                   });
  if (!out.intervals.empty()) {
    double base = double(out.intervals.front().start_time_ms) / 1000.0;
    out.start_time_sec = base;
    out.base_time_sec = base;
  }
  return out;
}

Expected<std::string> hdr_log_text(const HdrLog& log, std::string_view comment) {
  int64_t base_ms = log.base_time_sec ? int64_t(*log.base_time_sec * 1000.0 + 0.5) : 0;
  std::string text = hdr_log_header(base_ms, base_ms, comment);
  for (const HdrHistogram& h : log.intervals) {
    auto line = hdr_log_interval_line(h, base_ms);
    if (!line) return Error{line.error()};
    text += *line;
  }
  return text;
}

}  // namespace llmload::analysis
