// RunControl::finish: the merged result, the exit code and the files at the end of a run.
#include <unistd.h>

#include <algorithm>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/findings.h"
#include "common/number_format.h"
#include "common/wire_socket.h"
#include "coordinator/progress_view.h"
#include "coordinator/run_control.h"

namespace llmload::coord {

// The target's /metrics over the run, and what disagrees with our own numbers (warnings).
void RunControl::target_metrics(RunResult& r) {
  const Target* scraped = metrics_target(scenario_);
  if (!scraped) return;
  const std::string& url = scraped->metrics_url;
  r.target = merge_->target();
  r.target.url = url;
  const TargetMetrics& t = r.target;
  if (t.failed > 0) {
    warnings_.push_back("target metrics " + url + ": " + std::to_string(t.failed) + " of " +
                        std::to_string(t.failed + t.scrapes) + " scrape(s) failed (" +
                        t.first_error + ")");
  }
  const int64_t ours = merge_->total().counters.output_tokens;
  if (auto server = t.server_output_tokens(); server && scenario_.load.warmup_ns == 0 &&
                                              t.scrapes >= 2 && int64_t(*server) != ours) {
    warnings_.push_back("target metrics " + url + ": the server counted " +
                        format_general(*server) + " output tokens over the run, llmload " +
                        std::to_string(ours));
  }
}

RunOutcome RunControl::finish() {
  progress_->finish();
  phase_ = RunPhase::kFinished;
  RunOutcome out;
  RunResult& r = out.result;
  const int64_t now_mono = clock_.now_ns();
  const int64_t wall_at_start = wall_now_ns() - (now_mono - start_ns_);

  r.run.id = run_id_;
  r.run.started_at = format_iso8601_utc(wall_at_start);
  // The measured window (DESIGN.md "Results"): from its start to its limit or stop, or to the
  // end of its last measured request when the request budget ended it, as the workers saw it;
  // without a worker's word (every worker lost), the end of the last merged interval.
  const int64_t window_end =
      measured_end_ns_ > measured_start_ns_ ? measured_end_ns_ : last_interval_end_ns_;
  r.run.duration_s =
      window_end > measured_start_ns_ ? double(window_end - measured_start_ns_) / 1e9 : 0.0;
  r.run.version = LLMLOAD_VERSION;
  r.run.command = opt_.command;
  r.run.scenario = scenario_to_json(scenario_, JsonMode::kRedacted);
  r.run.seed = static_cast<int64_t>(scenario_.seed);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  r.run.host = host;
  for (const auto& t : scenario_.targets) r.run.insecure = r.run.insecure || t.tls.insecure;
  if (!scenario_.rating_tiers.empty()) r.run.rating_tiers = scenario_.rating_tiers;
  if (r.run.insecure) warnings_.push_back("TLS verification was off (--insecure)");

  bool lost = false;
  std::string lost_names;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    WorkerEntry* w = registry_.find(order_[i]);
    WorkerInfo info;
    info.id = w->hello.worker_id;
    info.host = w->hello.host;
    info.threads = w->hello.threads;
    info.status = w->state == WorkerState::kLost ? WorkerStatus::kLost : WorkerStatus::kOk;
    const auto stopped = stopped_early_.find(w->routing_id);
    if (info.status != WorkerStatus::kLost && stopped != stopped_early_.end()) {
      // It said why it stopped before its share was sent: the run is short of it, as of a lost
      // worker (its measurements are all in).
      info.status = WorkerStatus::kLost;
      lost = true;
      lost_names += (lost_names.empty() ? "" : ", ") + info.id + " (" + stopped->second + ")";
    }
    if (w->state == WorkerState::kLost) {
      lost = true;
      lost_names += (lost_names.empty() ? "" : ", ") + info.id + " (" + w->lost_reason + ")";
    }
    if (merge_) {
      info.totals = merge_->worker_totals(i);
      // The run's client health is its worst worker's (the machine most likely to have
      // measured itself).
      r.run.client.cpu_busy = std::max(r.run.client.cpu_busy, merge_->worker_cpu_busy(i));
      r.run.client.steal = std::max(r.run.client.steal, merge_->worker_steal(i));
      info.health = make_worker_health(merge_->worker_client(i), info.totals.output_tokens,
                                       merge_->worker_cpu_busy(i), merge_->worker_steal(i),
                                       merge_->worker_peak_rss(i));
      r.run.client.peak_rss_bytes =
          std::max(r.run.client.peak_rss_bytes, info.health.peak_rss_bytes);
    }
    r.run.workers.push_back(std::move(info));
  }
  if (merge_) r.run.client.timing = merge_->client();
  if (std::string why = r.run.client.judge(); !why.empty()) {
    warnings_.push_back("the load generator was saturated (" + why +
                        "): its numbers partly measure itself");
  }
  if (merge_) target_metrics(r);
  r.run.warnings = warnings_;

  if (merge_) {
    for (const auto& [key, g] : merge_->groups()) r.groups.push_back(GroupResult{g, std::nullopt});
  }
  recompute_total(r);
  PriceTable prices;
  for (const auto& [model, p] : scenario_.pricing) {
    prices[model] = ModelPrice{p.input_per_mtok, p.output_per_mtok};
  }
  apply_prices(r, prices);
  r.intervals = rows_;
  const bool load_sent = phase_ >= RunPhase::kRunning && !config_error_;
  if (opt_.evaluate_assertions && load_sent) opt_.evaluate_assertions(r);
  bool assertion_failed = false;
  for (const auto& a : r.assertions) assertion_failed = assertion_failed || !a.passed;

  RunEnding ending;
  ending.internal_error = internal_error_;
  ending.config_error = config_error_;
  ending.aborted = aborted_;
  ending.workers_lost = lost;
  ending.ok = r.total.counters.ok;
  ending.assertion_failed = assertion_failed;
  out.exit_code = exit_code_for(ending);
  r.run.exit_code = out.exit_code;
  r.run.status = status_for_exit(out.exit_code);
  if (message_.empty()) {
    if (lost)
      message_ = "worker(s) lost: " + lost_names + "; the result is partial";
    else if (r.total.counters.ok == 0)
      message_ = "not one request succeeded";
  }
  out.message = message_;
  r.findings = find_findings(r);

  if (files_) {
    auto written = files_->finish(r);
    if (!written) {
      log("%s", written.error().c_str());
      out.exit_code = combine_exit_codes(out.exit_code, kExitInternal);
      r.run.exit_code = out.exit_code;
    } else {
      out.results_written = true;
    }
  }
  // Kept for the next run on this bind (keep_workers), else told the session is over.
  for (const auto& rid : order_) {
    WorkerEntry* w = registry_.find(rid);
    if (w->state != WorkerState::kLost && !opt_.keep_workers) send(*w, wire::Bye{"run over"});
  }
  return out;
}

}  // namespace llmload::coord
