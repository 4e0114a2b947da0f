#include "coordinator/run_control.h"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <limits>
#include <optional>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/number_format.h"
#include "common/prompts.h"
#include "common/wire_socket.h"
#include "coordinator/progress_view.h"

namespace llmload::coord {

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMaxMalformedLogged = 5;
constexpr int64_t kLostReportWaitNs = 15 * kSec;  // for the final REPORT of a lost worker

}  // namespace

std::string format_seconds(int64_t ns) {
  return format_general(double(ns) / 1e9) + "s";
}

RunControl::RunControl(const CoordinatorOptions& opt, zmq::socket_t& router,
                       const Scenario& scenario, const std::vector<ResolvedPrompt>& prompts,
                       std::string run_id)
    : opt_(opt),
      router_(router),
      scenario_(scenario),
      prompts_(prompts),
      run_id_(std::move(run_id)),
      clock_(opt.clock != nullptr ? *opt.clock : monotonic_clock()) {
  progress_ = std::make_unique<ProgressView>(opt.progress, opt.progress_out);
  // Built before the workers join, so the start instant is not spent on it.
  // Bounded (count and bytes): a RUN never grows with the request budget.
  const std::size_t ship =
      prompts_that_fit(prompts_, opt.max_run_prompts, opt.max_run_prompt_bytes);
  if (ship < prompts_.size() && !prompts_read_on_worker(scenario)) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < ship; ++i) bytes += prompt_bytes(prompts_[i]);
    warnings_.push_back(
        "prompts: the run ships the first " + std::to_string(ship) + " of " +
        std::to_string(prompts_.size()) + " sampled prompts (" + std::to_string(bytes >> 10) +
        " KiB; cap " + std::to_string(opt.max_run_prompts) + " prompts, " +
        std::to_string(opt.max_run_prompt_bytes >> 10) + " KiB); workers cycle through them");
  }
  prompts_json_ = nlohmann::json::array();
  // A dataset file is read by each worker from the same path (DESIGN.md "Prompts on the
  // worker"): RUN names it (shared_files()) and carries no prompt.
  if (!prompts_read_on_worker(scenario_)) {
    for (std::size_t i = 0; i < ship; ++i)
      prompts_json_.push_back(wire::prompt_to_json(prompts_[i]));
  }
  if (opt.signals) signals_seen_ = opt.signals->load();
}

void RunControl::log(const char* fmt, ...) {
  if (!opt_.log) return;
  progress_->finish();
  va_list ap;
  va_start(ap, fmt);
  std::fputs("llmload: ", opt_.log);
  std::vfprintf(opt_.log, fmt, ap);
  std::fputc('\n', opt_.log);
  va_end(ap);
  std::fflush(opt_.log);
}

void RunControl::send(WorkerEntry& w, const wire::Message& m) {
  // A failed send means the connection is gone (ROUTER_MANDATORY): the heartbeat declares the
  // loss, so the result is not needed here.
  (void)wire::send_message(router_, m, &w.routing_id);
}

std::size_t RunControl::index_of(const WorkerEntry& w) const {
  for (std::size_t i = 0; i < order_.size(); ++i) {
    if (order_[i] == w.routing_id) return i;
  }
  return std::numeric_limits<std::size_t>::max();
}

void RunControl::pump(int64_t wait_ms) {
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, 1, std::chrono::milliseconds(wait_ms));
  } catch (const zmq::error_t&) {
    return;
  }
  // Bounded work per wake-up.
  drained_ = false;
  for (int i = 0; i < 10'000; ++i) {
    auto raw = wire::recv_message(router_, true);
    if (!raw) {
      drained_ = true;
      break;
    }
    dispatch(*raw, clock_.now_ns());
  }
}

void RunControl::dispatch(const wire::RawMessage& raw, int64_t now) {
  wire::DecodeLimits limits;
  limits.max_body_bytes = opt_.max_message_bytes;
  // A REPORT's histograms are checked whole, then merged from their encodings (LiveMerge).
  limits.stats.keep_encoded = true;
  auto bad = [&](const std::string& why) {
    ++malformed_;
    if (malformed_logged_++ < kMaxMalformedLogged) {
      WorkerEntry* w = registry_.find(raw.routing_id);
      log("ignored a malformed message from %s: %s",
          w ? ("worker " + w->hello.worker_id).c_str() : "an unknown peer", why.c_str());
    }
  };
  if (!raw.well_formed) return bad("wrong number of frames");
  auto decoded = wire::decode(raw.type, raw.body, limits);
  if (!decoded) return bad(decoded.error());
  wire::Message& msg = decoded.value();
  if (auto* h = std::get_if<wire::Hello>(&msg)) return on_hello(raw.routing_id, *h, now);
  WorkerEntry* w = registry_.find(raw.routing_id);
  if (!w) return;  // strangers: ignored
  if (w->state == WorkerState::kLost) {
    // A worker declared lost after its GO (silent for 3 s: a starved machine, a slow link) that
    // is heard again was told STOP: what it measured until then, its final REPORT included, is
    // counted, so no load it sent goes uncounted. It stays lost (the run is partial).
    const auto t = wire::type_of(msg);
    if (!w->started || w->done_after_loss ||
        (t != wire::MsgType::kReport && t != wire::MsgType::kDone)) {
      return;
    }
    if (t == wire::MsgType::kReport) {
      on_report(*w, std::get<wire::Report>(msg), now);
    } else if (std::get<wire::Done>(msg).run_id == run_id_) {
      w->done_after_loss = true;
      log("worker %s, declared lost, reported to its end: its data is counted",
          w->hello.worker_id.c_str());
    }
    return;
  }
  registry_.heard(*w, now);
  switch (wire::type_of(msg)) {
    case wire::MsgType::kPing: {
      auto& p = std::get<wire::Ping>(msg);
      send(*w, wire::Pong{p.seq, p.sent_ns, clock_.now_ns()});
      break;
    }
    case wire::MsgType::kPong: {
      auto& p = std::get<wire::Pong>(msg);
      w->clock.add_sample(p.ping_sent_ns, p.recv_ns, now);
      break;
    }
    case wire::MsgType::kReport:
      on_report(*w, std::get<wire::Report>(msg), now);
      break;
    case wire::MsgType::kDone: {
      auto& d = std::get<wire::Done>(msg);
      if (d.run_id != run_id_ || w->state == WorkerState::kJoined) break;
      w->state = WorkerState::kDone;
      if (!d.error.empty()) {
        if (phase_ >= RunPhase::kStarting) stopped_early_[w->routing_id] = d.error;
        warnings_.push_back("worker " + w->hello.worker_id + ": " + d.error);
        log("worker %s: %s", w->hello.worker_id.c_str(), d.error.c_str());
      }
      break;
    }
    case wire::MsgType::kBye: {
      auto& b = std::get<wire::Bye>(msg);
      if (w->state == WorkerState::kDone) break;
      registry_.mark_lost(*w, "left: " + b.reason, now);
      log("worker %s left: %s", w->hello.worker_id.c_str(), b.reason.c_str());
      if (phase_ >= RunPhase::kStarting && index_of(*w) < order_.size()) {
        warnings_.push_back("worker " + w->hello.worker_id + " lost: left (" + b.reason + ")");
        if (phase_ == RunPhase::kRunning && scenario_.on_worker_loss == OnWorkerLoss::kStop) {
          stop_all("worker " + w->hello.worker_id + " lost (on_worker_loss: stop)",
                   scenario_.load.grace_ns);
        }
      }
      break;
    }
    default:
      bad(std::string("unexpected ") + std::string(wire::type_name(wire::type_of(msg))) +
          " from a worker");
  }
}

void RunControl::on_hello(const std::string& rid, const wire::Hello& h, int64_t now) {
  auto reject = [&](const std::string& reason) {
    ++rejected_;
    wire::send_message(router_, wire::Reject{wire::kProtocolVersion, reason}, &rid);
    log("refused worker %s%s%s: %s", h.worker_id.empty() ? "?" : h.worker_id.c_str(),
        h.host.empty() ? "" : " on ", h.host.c_str(), reason.c_str());
  };
  if (registry_.find(rid)) return;  // a repeated HELLO on a known connection
  if (h.protocol != wire::kProtocolVersion) {
    return reject("protocol version " + std::to_string(h.protocol) + " (llmload " +
                  (h.version.empty() ? "?" : h.version) + ") but this coordinator speaks version " +
                  std::to_string(wire::kProtocolVersion) + " (llmload " + LLMLOAD_VERSION +
                  "): run the same llmload version everywhere");
  }
  if (phase_ != RunPhase::kJoining || registry_.alive() >= static_cast<std::size_t>(opt_.workers)) {
    return reject("this run already has its " + std::to_string(opt_.workers) + " worker(s)");
  }
  auto added = registry_.add(rid, h, now);
  if (!added) return reject(added.error());
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  send(*added.value(), wire::Welcome{wire::kProtocolVersion, host});
  log("worker %s (%s, %lld threads) joined [%zu/%d]", h.worker_id.c_str(), h.host.c_str(),
      static_cast<long long>(h.threads), registry_.alive(), opt_.workers);
}

void RunControl::on_report(WorkerEntry& w, wire::Report& r, int64_t now) {
  (void)now;
  if (r.run_id != run_id_) return;
  if (r.seq == 0) {
    if (!r.preflight || w.state != WorkerState::kPreflight) return;
    for (const auto& warn : r.preflight->warnings) {
      std::string text = "worker " + w.hello.worker_id + ": " + warn;
      if (std::find(warnings_.begin(), warnings_.end(), text) == warnings_.end()) {
        warnings_.push_back(text);
      }
    }
    if (r.preflight->ok) {
      w.state = WorkerState::kReady;
    } else if (message_.empty()) {
      const auto& f = r.preflight->failures.front();
      message_ = "pre-flight failed on worker " + w.hello.worker_id +
                 (f.target.empty() ? "" : " against target " + f.target) + ": " + f.message;
      config_error_ = true;
      if (phase_ == RunPhase::kRunning) stop_all(message_, 0);
    }
    return;
  }
  const std::size_t idx = index_of(w);
  if (idx >= order_.size() || !r.snapshot || !merge_) return;
  if (r.final && r.snapshot->window_end_ns > 0) {
    measured_end_ns_ = std::max(measured_end_ns_, r.snapshot->window_end_ns - w.clock.offset_ns());
  }
  if (!merge_->add(idx, r.seq, std::move(*r.snapshot), w.clock.offset_ns())) return;
  w.last_report_seq = r.seq;
  if (files_) files_->append_requests(r.requests, merge_->groups());
}

void RunControl::heartbeats(int64_t now) {
  for (WorkerEntry* w : registry_.due_pings(now)) {
    send(*w, wire::Ping{w->ping_seq, now});
  }
  // Silence is judged only with every message that arrived read: a coordinator behind on its
  // queue (a starved machine) must not call workers silent whose messages it has not read yet.
  if (!drained_) return;
  for (WorkerEntry* w : registry_.expire(now)) {
    log("worker %s lost: %s", w->hello.worker_id.c_str(), w->lost_reason.c_str());
    // Told to stop, in case it still hears us: a worker not counted must not send load (it
    // also stops by itself after 3 s without hearing from the coordinator).
    if (phase_ >= RunPhase::kStarting)
      send(*w, wire::Stop{run_id_, "declared lost: " + w->lost_reason, 0});
    if (phase_ >= RunPhase::kStarting && index_of(*w) < order_.size()) {
      warnings_.push_back("worker " + w->hello.worker_id + " lost: " + w->lost_reason +
                          "; its data up to its last report is kept");
      if (phase_ == RunPhase::kRunning && scenario_.on_worker_loss == OnWorkerLoss::kStop) {
        stop_all("worker " + w->hello.worker_id + " lost (on_worker_loss: stop)",
                 scenario_.load.grace_ns);
      }
    }
  }
}

void RunControl::stop_all(const std::string& reason, int64_t grace_ns) {
  const int64_t now = clock_.now_ns();
  for (const auto& rid : order_) {
    WorkerEntry* w = registry_.find(rid);
    if (w && w->state != WorkerState::kLost && w->state != WorkerState::kDone) {
      send(*w, wire::Stop{run_id_, reason, grace_ns});
    }
  }
  if (phase_ != RunPhase::kDraining) {
    phase_ = RunPhase::kDraining;
    stop_sent_ns_ = now;
    drain_deadline_ns_ = now + grace_ns + opt_.drain_slack_ns;
  }
}

bool RunControl::drain_over(int64_t now) {
  // Past the drain deadline: judged with every waiting message read (a coordinator behind on
  // its queue, a starved machine, reads the DONEs it holds before judging), except at the bound.
  const bool bound = now - drain_deadline_ns_ > opt_.max_drain_overrun_ns;
  if (!drained_ && !bound) return false;
  std::size_t heard = 0;
  for (const auto& rid : order_) {
    WorkerEntry* w = registry_.find(rid);
    if (w->state == WorkerState::kDone || w->state == WorkerState::kLost) continue;
    const int64_t silent = now - w->last_heard_ns;
    if (bound) {
      registry_.mark_lost(
          *w,
          "no DONE within " +
              format_seconds(drain_deadline_ns_ - stop_sent_ns_ + opt_.max_drain_overrun_ns) +
              " after STOP (still heard from; the drain's bound)",
          now);
    } else if (silent >= wire::kSilenceNs) {
      registry_.mark_lost(
          *w, "no DONE within the grace after STOP (silent for " + format_seconds(silent) + ")",
          now);
    } else {
      // Still heard from: its final REPORT and DONE may be queued behind what this coordinator
      // has not read yet (ZeroMQ's I/O thread, the kernel's buffers). Waited for.
      ++heard;
      continue;
    }
    warnings_.push_back("worker " + w->hello.worker_id + " lost: " + w->lost_reason);
  }
  if (heard > 0 && !drain_overrun_logged_) {
    drain_overrun_logged_ = true;
    log("%zu worker(s) still heard from but without DONE %s after STOP: waiting for them (at "
        "most %s more)",
        heard, format_seconds(now - stop_sent_ns_).c_str(),
        format_seconds(drain_deadline_ns_ + opt_.max_drain_overrun_ns - now).c_str());
  }
  return heard == 0;
}

void RunControl::flush_intervals(int64_t now, bool force) {
  (void)now;
  int64_t through = std::numeric_limits<int64_t>::max();
  int64_t max_seen = 0;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    WorkerEntry* w = registry_.find(order_[i]);
    max_seen = std::max(max_seen, merge_->last_seq(i));
    if (w->state == WorkerState::kLost || w->state == WorkerState::kDone) continue;
    through = std::min(through, merge_->last_seq(i));
  }
  // A worker two intervals behind does not hold the live view back.
  through = std::max<int64_t>(through == std::numeric_limits<int64_t>::max() ? max_seen : through,
                              max_seen - 2);
  if (force) through = std::numeric_limits<int64_t>::max();
  auto ready = merge_->take_through(through);
  if (ready.empty()) return;
  // The cumulative total (every group's histograms merged: ~150 histogram adds) only for a
  // live gate that reads it; the progress line needs only the counters.
  std::optional<GroupStats> total;
  if (opt_.on_interval) total = merge_->total();
  Counters counted;
  for (const auto& [key, g] : merge_->groups()) counted.merge(g.counters);
  for (MergedInterval& iv : ready) {
    if (iv.end_ns <= measured_start_ns_ && iv.total.empty()) continue;  // warmup
    last_interval_end_ns_ = std::max(last_interval_end_ns_, iv.end_ns);
    const double elapsed = double(iv.end_ns - measured_start_ns_) / 1e9;
    IntervalRow row =
        make_interval_row(iv.total, elapsed, double(iv.interval_ns) / 1e9, iv.in_flight);
    row.target = std::move(iv.target);
    rows_.push_back(row);
    if (files_) {
      files_->append_interval(row);
      files_->append_histograms(iv.total, iv.groups, iv.start_ns, iv.end_ns);
    }
    ProgressSample s;
    s.elapsed_s = elapsed;
    s.total_s = double(scenario_.load.duration_ns) / 1e9;
    s.requests_done = counted.requests;
    s.requests_total = scenario_.load.requests;
    s.requests_per_s = row.requests_per_s;
    s.output_tokens_per_s = row.output_tokens_per_s;
    s.in_flight = row.in_flight;
    s.ttft_p50_ms = row.ttft_p50_ms;
    s.ttft_p99_ms = row.ttft_p99_ms;
    s.errors = counted.failed;
    s.client_cancelled = counted.client_cancelled;
    s.workers_alive = 0;
    for (const auto& rid : order_)
      s.workers_alive += registry_.find(rid)->state != WorkerState::kLost;
    s.workers_total = static_cast<int>(order_.size());
    s.interval_s = double(iv.interval_ns) / 1e9;
    s.report_interval_s = double(scenario_.interval_ns) / 1e9;
    progress_->print(s);
    if (opt_.on_interval && !aborted_) {
      LiveView view{merge_->groups(), *total,          elapsed,
                    row.in_flight,    s.workers_alive, double(iv.loop_lag_us_max) / 1000.0};
      if (std::string why = opt_.on_interval(view); !why.empty()) {
        aborted_ = true;
        message_ = why;
        log("%s: stopping the run", why.c_str());
        stop_all(why, 0);
      }
    }
  }
  if (files_) {
    if (auto f = files_->flush(); !f) {
      log("%s", f.error().c_str());
      internal_error_ = true;
    }
  }
}

void RunControl::run_load() {
  const auto& load = scenario_.load;
  const int64_t hard_end = load.duration_ns > 0 ? start_ns_ + load.warmup_ns + load.duration_ns +
                                                      load.grace_ns + 15 * kSec
                                                : std::numeric_limits<int64_t>::max();
  while (true) {
    pump(50);
    const int64_t now = clock_.now_ns();
    heartbeats(now);
    if (opt_.signals && opt_.signals->load() > signals_seen_ && !aborted_) {
      signals_seen_ = opt_.signals->load();
      aborted_ = true;
      const int64_t grace = std::min(load.grace_ns, opt_.max_abort_grace_ns);
      message_ = "interrupted: load stopped, results marked aborted";
      log("interrupted: stopping load, draining up to %.0f s (a second signal exits at once)",
          double(grace) / 1e9);
      stop_all("interrupted", grace);
    }
    // The planned end, like silence, is judged with every waiting message read: a coordinator
    // behind on its queue has not seen the DONEs of workers that ended on time.
    if (phase_ == RunPhase::kRunning && now > hard_end &&
        (drained_ || now - hard_end > opt_.max_drain_overrun_ns)) {
      warnings_.push_back("the run overran its planned end; workers were stopped");
      stop_all("the run overran its planned end", 0);
    }
    flush_intervals(now, false);
    bool all_over = true;
    for (const auto& rid : order_) {
      const WorkerEntry* w = registry_.find(rid);
      // A started worker declared lost gets a few seconds to send what it measured (it was
      // told STOP); one that is really gone only delays the end by that much.
      const bool awaited = w->state == WorkerState::kLost && w->started && !w->done_after_loss &&
                           now - w->lost_ns < kLostReportWaitNs;
      all_over = all_over &&
                 (w->state == WorkerState::kDone || (w->state == WorkerState::kLost && !awaited));
    }
    if (all_over) break;
    if (phase_ == RunPhase::kDraining && now > drain_deadline_ns_ && drain_over(now)) break;
  }
  flush_intervals(clock_.now_ns(), true);
}

void RunControl::adopt(const std::vector<KeptWorker>& kept) {
  const int64_t now = clock_.now_ns();
  for (const KeptWorker& k : kept) {
    auto added = registry_.add(k.routing_id, k.hello, now);
    if (!added) continue;  // cannot happen: ids were unique in the run they come from
    log("worker %s (%s, %lld threads) still attached [%zu/%d]", k.hello.worker_id.c_str(),
        k.hello.host.c_str(), static_cast<long long>(k.hello.threads), registry_.alive(),
        opt_.workers);
  }
}

std::vector<KeptWorker> RunControl::kept_workers() {
  std::vector<KeptWorker> kept;
  if (said_bye_) return kept;
  for (WorkerEntry* w : registry_.all())
    if (w->state != WorkerState::kLost) kept.push_back(KeptWorker{w->routing_id, w->hello});
  return kept;
}

RunOutcome RunControl::run() {
  RunOutcome out;
  if (!describe_files() || !join()) {
    out.exit_code = exit_code_for({false, config_error_, aborted_, false, 1, false});
    out.message = message_;
    out.result.run.id = run_id_;
    out.result.run.status = status_for_exit(out.exit_code);
    out.result.run.exit_code = out.exit_code;
    for (WorkerEntry* w : registry_.all()) send(*w, wire::Bye{message_});
    said_bye_ = true;
    return out;
  }
  if (start()) run_load();
  return finish();
}

}  // namespace llmload::coord
