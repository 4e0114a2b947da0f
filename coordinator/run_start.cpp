// RunControl's start: the shared files described, the workers joined, RUN sent to all at once,
// their pre-flight verdicts and clock offsets gathered, and GO with each worker's load share.
#include <algorithm>

#include "common/clock.h"
#include "common/load_split.h"
#include "common/shared_file.h"
#include "common/wire_socket.h"
#include "coordinator/run_control.h"

namespace llmload::coord {

namespace {
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kOffsetBurstNs = 200 * kMs;  // PING bursts for the clock offsets after RUN
}  // namespace

bool RunControl::describe_files() {
  // Before any worker joins: a file that cannot be read (or is too large) is one clear error.
  auto files = shared_files(scenario_);
  if (!files) {
    message_ = files.error() + "; no load was sent";
    config_error_ = true;
    return false;
  }
  shared_files_ = std::move(files.value());
  return true;
}

bool RunControl::join() {
  const int64_t deadline = clock_.now_ns() + opt_.join_timeout_ns;
  while (registry_.alive() < static_cast<std::size_t>(opt_.workers)) {
    const int64_t now = clock_.now_ns();
    if (opt_.signals && opt_.signals->load() > signals_seen_) {
      aborted_ = true;
      message_ = "interrupted while waiting for workers";
      return false;
    }
    if (now >= deadline) {
      std::string joined;
      for (WorkerEntry* w : registry_.all()) {
        if (w->state == WorkerState::kLost) continue;
        joined += (joined.empty() ? "" : ", ") + w->hello.worker_id + " on " + w->hello.host;
      }
      message_ = "waited " + std::to_string(opt_.join_timeout_ns / kSec) + " s for " +
                 std::to_string(opt_.workers) + " worker(s): " + std::to_string(registry_.alive()) +
                 " joined" + (joined.empty() ? "" : " (" + joined + ")") + ", " +
                 std::to_string(opt_.workers - static_cast<int>(registry_.alive())) +
                 " missing; no load was sent";
      config_error_ = true;
      return false;
    }
    pump(50);
    heartbeats(clock_.now_ns());
  }
  for (WorkerEntry* w : registry_.all()) {
    if (w->state != WorkerState::kLost) order_.push_back(w->routing_id);
  }
  return true;
}

bool RunControl::start() {
  phase_ = RunPhase::kStarting;
  merge_ = std::make_unique<LiveMerge>(order_.size());
  // RUN is the same for every worker (scenario and prompts, which can be megabytes): encoded
  // once, sent to all at once, so every pre-flight runs while the clock offsets are measured.
  const std::string body =
      wire::encode_run_body(wire::Run{run_id_,
                                      scenario_to_json(scenario_, JsonMode::kWire),
                                      {},
                                      shared_files_,
                                      scenario_.interval_ns,
                                      opt_.requests_csv || !opt_.requests_jsonl.empty()},
                            std::move(prompts_json_));
  const int64_t run_sent = clock_.now_ns();
  for (const auto& rid : order_) {
    WorkerEntry* w = registry_.find(rid);
    if (w->state == WorkerState::kLost) continue;
    w->state = WorkerState::kPreflight;
    wire::send_body(router_, "RUN", body, &w->routing_id);
  }
  // Wait for every verdict, however long the pre-flights take (200 processes starting on two
  // cores, a slow TLS handshake to a remote target), bounded by --preflight-timeout; PINGs in
  // bursts meanwhile for the clock offsets (the best round trip wins). No worker sends load
  // before its GO, so a worker that misses the bound is simply never started.
  const int64_t burst_end = run_sent + kOffsetBurstNs;
  // A target's wait_ready comes before its pre-flight (worker/wait_ready.h): the bound grows by
  // the longest.
  int64_t wait_ready = 0;
  for (const Target& t : scenario_.targets) wait_ready = std::max(wait_ready, t.wait_ready_ns);
  const int64_t verdict_deadline = run_sent + wait_ready + opt_.preflight_timeout_ns;
  int64_t last_burst = 0;
  while (true) {
    const int64_t now = clock_.now_ns();
    if (now < burst_end && now - last_burst >= 30 * kMs) {
      last_burst = now;
      for (const auto& rid : order_) {
        WorkerEntry* w = registry_.find(rid);
        if (w->state != WorkerState::kLost) send(*w, wire::Ping{++w->ping_seq, now});
      }
    }
    std::vector<WorkerEntry*> waiting;
    for (const auto& rid : order_) {
      WorkerEntry* w = registry_.find(rid);
      if (w->state == WorkerState::kPreflight) waiting.push_back(w);
    }
    if (config_error_) break;
    if (waiting.empty() && now >= burst_end) break;
    if (opt_.signals && opt_.signals->load() > signals_seen_) {
      signals_seen_ = opt_.signals->load();
      aborted_ = true;
      message_ = "interrupted before the start";
      break;
    }
    if (now >= verdict_deadline && !waiting.empty()) {
      std::string names;
      for (WorkerEntry* w : waiting) {
        names += (names.empty() ? "" : ", ") + w->hello.worker_id + " on " + w->hello.host;
        const std::string why = "no pre-flight verdict within --preflight-timeout " +
                                format_seconds(opt_.preflight_timeout_ns);
        send(*w, wire::Stop{run_id_, why, 0});
        registry_.mark_lost(*w, why, now);
        warnings_.push_back("worker " + w->hello.worker_id + " lost: " + why +
                            "; it was never started and sent no load");
      }
      log("waited %s for pre-flight verdicts: %zu worker(s) never answered (%s); they are "
          "not started and the run goes on without them (raise --preflight-timeout if they "
          "are only slow)",
          format_seconds(opt_.preflight_timeout_ns).c_str(), waiting.size(), names.c_str());
      break;
    }
    pump(now < burst_end ? 5 : 10);
    heartbeats(clock_.now_ns());
  }
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    if (registry_.find(order_[i])->state == WorkerState::kReady) ready.push_back(i);
  }
  if (!config_error_ && !aborted_ && ready.empty()) {
    message_ = "no worker passed its pre-flight in time; no load was sent";
  }
  // The results folder only for a run that sends load: a run refused before it leaves none.
  if (!config_error_ && !aborted_ && !ready.empty()) {
    auto files = ResultFiles::open(opt_.out_dir, opt_.requests_csv, opt_.requests_jsonl);
    if (files) {
      files_.emplace(std::move(files.value()));
    } else {
      config_error_ = true;
      message_ = files.error() + "; no load was sent";
    }
  }
  if (config_error_ || aborted_ || ready.empty()) {
    stop_all(message_, 0);
    // Let the workers acknowledge (their final REPORT and DONE), bounded.
    const int64_t until = clock_.now_ns() + 2 * kSec;
    while (clock_.now_ns() < until) {
      bool all = true;
      for (const auto& rid : order_) {
        auto st = registry_.find(rid)->state;
        all = all && (st == WorkerState::kDone || st == WorkerState::kLost);
      }
      if (all) break;
      pump(20);
    }
    return false;
  }
  // GO: the load split over the workers that passed (so a worker lost before the start does
  // not take its share of the load with it), one start instant on each worker's clock.
  std::vector<int64_t> weights;
  for (std::size_t i : ready) weights.push_back(registry_.find(order_[i])->hello.threads);
  const auto shares = split_load(scenario_.load, weights, scenario_.seed);
  const int64_t go_ns = clock_.now_ns();
  log("%zu of %zu pre-flight verdict(s) in after %.1f s: load starts in %.1f s", ready.size(),
      order_.size(), double(go_ns - run_sent) / 1e9, double(opt_.start_lead_ns) / 1e9);
  start_ns_ = go_ns + opt_.start_lead_ns;
  measured_start_ns_ = start_ns_ + scenario_.load.warmup_ns;
  for (std::size_t k = 0; k < ready.size(); ++k) {
    WorkerEntry* w = registry_.find(order_[ready[k]]);
    w->started = true;
    send(*w, wire::Go{run_id_, shares[k], w->clock.to_worker(start_ns_)});
  }
  phase_ = RunPhase::kRunning;
  return true;
}

}  // namespace llmload::coord
