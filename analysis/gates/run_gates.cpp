#include "analysis/gates/run_gates.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "analysis/gates/assertions.h"
#include "analysis/gates/junit.h"
#include "analysis/gates/summary_md.h"
#include "analysis/observe/metrics_server.h"
#include "analysis/observe/prometheus.h"
#include "analysis/report/html_report.h"
#include "common/atomic_file.h"
#include "common/duration.h"
#include "common/exit_codes.h"
#include "common/rating.h"

namespace llmload::analysis {

RunGates::RunGates(RunGatesOptions options) : options_(std::move(options)) {
  for (const SloAssertion& a : options_.asserts) any_abort_ = any_abort_ || a.abort_on_fail;
}

RunGates::~RunGates() {
  if (!metrics_) return;
  const int signals_at_start = signals_ ? signals_->load() : 0;
  if (linger_ns_ > 0 && final_numbers_ && signals_at_start == 0) {
    std::fprintf(stderr, "llmload: keeping /metrics up for %s (--prometheus-linger)\n",
                 format_duration_ns(linger_ns_).c_str());
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(linger_ns_);
    while (std::chrono::steady_clock::now() < until &&
           (!signals_ || signals_->load() == signals_at_start))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  metrics_->stop();
}

Expected<bool> RunGates::start(const std::atomic<int>* signals) {
  const std::string& linger = options_.prometheus_linger;
  if (!linger.empty()) {
    if (options_.prometheus.empty())
      return Error{"--prometheus-linger needs --prometheus ADDR (there is no /metrics to keep up)"};
    auto d = parse_duration_ns(linger);
    if (!d) return Error{"--prometheus-linger: " + d.error()};
    if (*d < 0 || *d > kMaxPrometheusLingerNs)
      return Error{"--prometheus-linger '" + linger + "': expected a duration from 0s to 1h"};
    linger_ns_ = *d;
  }
  signals_ = signals;
  if (!options_.prometheus.empty()) {
    metrics_ = std::make_unique<MetricsServer>();
    auto port = metrics_->start(options_.prometheus);
    if (!port) return Error{port.error()};
    metrics_->set_text(prometheus_exposition(exported({}), {}));
    // The address with the port actually bound (":0" picks one).
    const std::string& a = options_.prometheus;
    std::string host = a.substr(0, a.rfind(':'));
    std::fprintf(stderr, "llmload: serving live metrics on http://%s:%d/metrics\n",
                 host.empty() ? "127.0.0.1" : host.c_str(), *port);
  }
  return true;
}

bool RunGates::watches_intervals() const {
  return any_abort_ || metrics_ != nullptr;
}

void RunGates::evaluate(RunResult& r) {
  r.assertions.clear();
  details_.clear();
  for (const AssertionOutcome& o : evaluate_assertions(options_.asserts, r)) {
    r.assertions.push_back(o.result);
    details_.push_back(o.detail);
  }
}

std::vector<GroupStats> RunGates::exported(const std::map<std::string, GroupStats>& seen) const {
  std::vector<GroupStats> out;
  out.reserve(seen.size() + options_.groups.size());
  for (const auto& [key, g] : seen) out.push_back(g);
  for (const Labels& labels : options_.groups) {
    if (seen.count(group_key(labels)) == 0) out.emplace_back(labels);  // not seen yet: zeros
  }
  return out;
}

std::string RunGates::on_interval(const LiveNumbers& v) {
  if (metrics_) {
    last_loop_lag_s_ = v.loop_lag_ms / 1000.0;
    metrics_->set_text(prometheus_exposition(
        exported(v.groups),
        PrometheusGauges{v.in_flight, v.workers_alive, v.loop_lag_ms / 1000.0}));
  }
  if (!any_abort_) return "";
  RunResult partial;
  partial.run.duration_s = v.elapsed_s;
  partial.total = v.total;
  for (const auto& [key, g] : v.groups) partial.groups.push_back(GroupResult{g, std::nullopt});
  for (const SloAssertion& a : options_.asserts)
    if (a.abort_on_fail && certain_to_fail(a, partial)) {
      AssertionOutcome o = evaluate_assertion(a, partial);
      return "abort_on_fail assertion '" + a.text + "' failed (" + o.detail + ")";
    }
  return "";
}

int RunGates::finish(const RunResult& r, int exit_code, const std::string& message,
                     bool results_written, const std::string& out_dir) {
  int code = exit_code;
  auto fail = [&](const std::string& what, const std::string& err) {
    std::fprintf(stderr, "llmload: cannot write %s: %s\n", what.c_str(), err.c_str());
    code = combine_exit_codes(code, kExitInternal);
  };
  if (metrics_ && results_written) {
    // The final numbers, exactly those of summary.json: nothing is in flight any more.
    std::map<std::string, GroupStats> seen;
    for (const GroupResult& g : r.groups) seen.emplace(group_key(g.stats.labels), g.stats);
    const std::vector<GroupStats> groups = exported(seen);
    int64_t alive = 0;
    for (const WorkerInfo& w : r.run.workers) alive += w.status != WorkerStatus::kLost;
    metrics_->set_text(prometheus_exposition(groups, PrometheusGauges{0, alive, last_loop_lag_s_}));
    // Only a run that sent load lingers (not a pre-flight or configuration failure).
    final_numbers_ = r.run.status != RunStatus::kFailed;
  }
  if (!options_.junit.empty()) {
    std::vector<JunitCase> cases;
    for (size_t i = 0; i < r.assertions.size(); ++i)
      cases.push_back(JunitCase{r.assertions[i].expr, r.assertions[i].passed,
                                i < details_.size() ? details_[i] : std::string()});
    if (cases.empty() && !message.empty())
      cases.push_back(JunitCase{"run " + std::string(name(r.run.status)), exit_code == 0, message});
    // Each group's rating as a suite property ("rating:model=m,target=…" = "good").
    std::vector<std::pair<std::string, std::string>> properties;
    for (const GroupResult& g : r.groups)
      if (auto rating = rate_group(g.stats, r.run.rating_tiers))
        properties.emplace_back("rating:" + group_key(g.stats.labels), *rating);
    auto w = write_junit(options_.junit, "llmload.slo", cases, r.run.duration_s, properties);
    if (!w) fail(options_.junit, w.error());
  }
  if (!options_.summary_md.empty()) {
    auto w = write_file_atomic(options_.summary_md, summary_markdown(r, details_));
    if (!w) fail(options_.summary_md, w.error());
  }
  if (!options_.no_report && results_written) {
    ReportRun run{r.run.id, r, r.intervals};
    std::string path = out_dir + "/report.html";
    auto w = write_file_atomic(path, html_report({run}, r.run.rating_tiers));
    if (!w) fail(path, w.error());
  }
  return code;
}

int RunGates::metrics_port() const {
  return metrics_ ? metrics_->port() : 0;
}

std::string RunGates::metrics_text() const {
  return metrics_ ? metrics_->text() : std::string();
}

}  // namespace llmload::analysis
