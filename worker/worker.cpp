#include "worker/worker.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/cpu_usage.h"
#include "worker/loop.h"
#include "worker/preflight.h"
#include "worker/run_plan.h"
#include "worker/target_metrics.h"
#include "worker/wait_ready.h"

namespace llmload::worker {

struct Worker::Impl {
  int threads = 1;
  bool kernel_timestamps = true;
  TestStall test_stall;
  std::mutex mu;  // guards loops against stop() from other threads
  std::vector<std::unique_ptr<Loop>> loops;
  std::shared_ptr<const RunPlan> plan;
  RunSpec spec;
  bool running = false;
  bool joined = false;
  int64_t window_start = 0;
  int64_t interval = 1'000'000'000;
  int64_t next_index = 0;
  int64_t sequence = 0;
  std::vector<std::deque<LoopInterval*>> queued;
  std::vector<bool> last_seen;
  std::vector<std::string> warnings;
  std::optional<CpuMeter> cpu;  // process CPU and host steal, per reported interval
  // The first worker's scraper of the target's /metrics (none elsewhere, or without a URL).
  std::unique_ptr<TargetMetricsScraper> scraper;
  // prepare()'s plan, for the start() with these same inputs.
  std::mutex prepared_mu;
  std::shared_ptr<const RunPlan> prepared;
  const Scenario* prepared_scenario = nullptr;
  const std::vector<ResolvedPrompt>* prepared_prompts = nullptr;

  void drain() {
    for (size_t i = 0; i < loops.size(); ++i) {
      while (LoopInterval* b = loops[i]->recorder().take()) {
        queued[i].push_back(b);
        if (b->last) last_seen[i] = true;
      }
    }
  }
  // Interval k can be reported: every loop still running has handed over k. Once every loop
  // has handed over its last buffer there is no regular interval any more: what is left goes
  // into the final snapshot (reporting "ready" then would invent empty intervals past the end).
  bool ready(int64_t k) const {
    bool any_running = false;
    for (size_t i = 0; i < loops.size(); ++i) {
      if (last_seen[i]) continue;
      any_running = true;
      if (queued[i].empty() || queued[i].back()->index < k) return false;
    }
    return any_running;
  }
  // Merges every queued buffer with index <= k (all of them when k is INT64_MAX).
  WorkerReport merge(int64_t k, bool last) {
    WorkerReport r;
    r.sequence = sequence++;
    r.last = last;
    IntervalSnapshot& s = r.snapshot;
    s.start_ns = window_start + next_index * interval;
    s.end_ns = last ? s.start_ns : s.start_ns + interval;
    double busy = 0;
    int busy_n = 0;
    for (size_t i = 0; i < loops.size(); ++i) {
      while (!queued[i].empty() && queued[i].front()->index <= k) {
        LoopInterval* b = queued[i].front();
        queued[i].pop_front();
        for (const GroupStats& g : b->groups) {
          if (!g.empty()) s.group(g.labels).merge(g);
        }
        for (RequestRow& row : b->rows) r.requests.push_back(std::move(row));
        if (queued[i].empty() || queued[i].front()->index > k) s.in_flight += b->in_flight;
        s.loop_lag_us_max = std::max(s.loop_lag_us_max, b->lag_us_max);
        s.client.merge(b->client);
        busy += b->busy_fraction;
        ++busy_n;
        if (last) s.end_ns = std::max(s.end_ns, b->end_ns);
        if (b->last && b->measured_end_ns >= 0)
          s.window_end_ns = std::max(s.window_end_ns, b->measured_end_ns);
        loops[i]->recorder().give_back(b);
      }
    }
    s.loop_busy_fraction = busy_n > 0 ? std::clamp(busy / busy_n, 0.0, 1.0) : 0.0;
    if (cpu) {
      // A loop starved of CPU by other processes uses little CPU yet never waits for events:
      // it has no slack all the same. The worker's busy share is the larger of its CPU share
      // and its loops' non-idle share (time runnable but preempted counts as busy).
      const CpuShare c = cpu->take();
      s.cpu_busy = std::max(c.busy, s.loop_busy_fraction);
      s.steal = c.steal;
    }
    if (scraper) {
      TargetMetricsScraper::Scrape t = scraper->take();
      s.target = std::move(t.values);
      s.target_failed = t.failed;
      s.target_error = std::move(t.error);
    }
    s.peak_rss_bytes = process_peak_rss_bytes();
    if (!last) next_index = k + 1;
    return r;
  }
};

namespace {

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

// Raises RLIMIT_NOFILE to the hard limit; a warning when that cannot hold `needed`.
void raise_fd_limit(int64_t needed, std::vector<std::string>& warnings) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  if (rl.rlim_cur != RLIM_INFINITY && int64_t(rl.rlim_cur) < needed) {
    warnings.push_back("open-file limit " + std::to_string(rl.rlim_cur) + " (hard limit " +
                       std::to_string(rl.rlim_max) + ") cannot hold the " + std::to_string(needed) +
                       " descriptors this load needs: raise `ulimit -Hn` (connections beyond "
                       "it fail as connect errors)");
  }
}

}  // namespace

Worker::Worker(WorkerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->threads = options.threads > 0 ? options.threads : default_threads();
  impl_->kernel_timestamps = options.kernel_timestamps;
  impl_->test_stall = options.test_stall;
}

Worker::~Worker() {
  stop(0);
  if (impl_->running) wait_done();
}

int Worker::threads() const {
  return impl_->threads;
}

PreflightResult Worker::preflight(const Scenario& scenario) {
  PreflightResult r;
  const ReadyVerdict ready = wait_until_ready(scenario, [](const std::string& line) {
    std::fprintf(stderr, "llmload: %s\n", line.c_str());
  });
  if (!ready.ok) {
    r.ok = false;
    r.error = ready.error;
    return r;
  }
  const PreflightVerdict v = preflight_scenario(scenario);
  r.ok = v.ok;
  r.error = v.error;
  r.warnings = v.warnings;
  return r;
}

Expected<bool> Worker::prepare(const std::shared_ptr<const Scenario>& scenario,
                               const std::shared_ptr<const std::vector<ResolvedPrompt>>& prompts) {
  if (!scenario) return Error{"worker: the run has no scenario"};
  if (!prompts || prompts->empty()) return Error{"worker: the run has no prompts"};
  auto plan = build_run_plan(*scenario, *prompts);
  if (!plan) return Error{"worker: " + plan.error()};
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.prepared_mu);
  m.prepared = std::move(plan.value());
  m.prepared_scenario = scenario.get();
  m.prepared_prompts = prompts.get();
  return true;
}

Expected<bool> Worker::start(RunSpec spec, int64_t start_ns) {
  Impl& m = *impl_;
  if (m.running) return Error{"worker: a run is already going"};
  if (!spec.scenario) return Error{"worker: the run has no scenario"};
  if (!spec.prompts) return Error{"worker: the run has no prompts"};
  const Scenario& sc = *spec.scenario;
  const LoadShare& share = spec.share;
  std::shared_ptr<const RunPlan> plan;
  {
    std::lock_guard<std::mutex> lock(m.prepared_mu);
    if (m.prepared && m.prepared_scenario == spec.scenario.get() &&
        m.prepared_prompts == spec.prompts.get()) {
      plan = std::move(m.prepared);
    }
    m.prepared.reset();
    m.prepared_scenario = nullptr;
    m.prepared_prompts = nullptr;
  }
  if (!plan) {
    // (A prepared plan needs no list: a dataset's is released once its plan is built.)
    if (spec.prompts->empty()) return Error{"worker: the run has no prompts"};
    auto built = build_run_plan(sc, *spec.prompts);
    if (!built) return Error{"worker: " + built.error()};
    plan = std::move(built.value());
  }

  const int T = m.threads;
  if (share.loops.size() != size_t(T)) {
    return Error{"worker: the share holds " + std::to_string(share.loops.size()) +
                 " loop(s) but this worker runs " + std::to_string(T)};
  }
  const bool open = share.mode == LoadMode::kRate;
  double peak_total = 0;
  for (const LoopShare& l : share.loops) {
    double peak = l.level;
    for (double s : l.stage_levels) peak = std::max(peak, s);
    peak_total += peak;
  }

  std::vector<std::string> warnings;
  if (plan->insecure) {
    warnings.push_back(
        "TLS verification is off (--insecure): the target's identity is not checked");
  }
  raise_fd_limit(int64_t(open ? std::max<double>(64, peak_total) : peak_total) + 64, warnings);

  std::lock_guard<std::mutex> lock(m.mu);
  m.loops.clear();
  m.plan = plan;
  for (int i = 0; i < T; ++i) {
    const LoopShare& ls = share.loops[size_t(i)];
    LoopConfig lc;
    lc.index = i;
    lc.open_loop = open;
    lc.interval_ns = sc.interval_ns > 0 ? sc.interval_ns : 1'000'000'000;
    lc.worker_id = spec.worker_id;
    lc.keep_rows = spec.record_requests;
    lc.seed = ls.seed;
    lc.prompt_offset = ls.index;
    lc.first_request = ls.first_request;
    lc.requests = share.has_request_limit ? ls.requests : 0;
    lc.run_requests = share.has_request_limit ? share.run_requests : 0;
    lc.run_loop = ls.index;
    lc.run_loops = share.loop_count;
    lc.run_seed = sc.seed;
    lc.sched = scheduler_config(share, ls, start_ns);
    lc.kernel_timestamps = m.kernel_timestamps;
    if (m.test_stall.stall_ns > 0) {
      lc.stall_from_ns = start_ns + m.test_stall.after_ns;
      lc.stall_until_ns = lc.stall_from_ns + m.test_stall.stall_ns;
    }
    m.loops.push_back(std::make_unique<Loop>(std::move(lc), m.plan));
  }
  m.spec = std::move(spec);
  m.window_start = start_ns + std::max<int64_t>(0, share.warmup_ns);
  m.interval = sc.interval_ns > 0 ? sc.interval_ns : 1'000'000'000;
  m.next_index = 0;
  m.sequence = 0;
  m.queued.assign(size_t(T), {});
  m.last_seen.assign(size_t(T), false);
  m.warnings = std::move(warnings);
  m.joined = false;
  m.cpu.emplace(T);
  m.scraper.reset();
  if (const Target* t = metrics_target(sc); t && share.index == 0) {
    m.scraper = std::make_unique<TargetMetricsScraper>(t->metrics_url, t->metrics, m.interval);
  }
  m.running = true;
  for (auto& l : m.loops) l->start();
  return true;
}

std::optional<WorkerReport> Worker::next_interval(int64_t timeout_ns) {
  Impl& m = *impl_;
  if (!m.running && m.loops.empty()) return std::nullopt;
  const int64_t deadline = mono_now_ns() + std::max<int64_t>(0, timeout_ns);
  for (;;) {
    m.drain();
    if (done()) return std::nullopt;
    if (m.ready(m.next_index)) return m.merge(m.next_index, false);
    if (mono_now_ns() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void Worker::stop(int64_t grace_ns) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& l : impl_->loops) l->stop(grace_ns);
}

bool Worker::done() const {
  for (const auto& l : impl_->loops) {
    if (!l->done()) return false;
  }
  // The load is over: the target's /metrics gets its last scrape before the final report.
  if (TargetMetricsScraper* s = impl_->scraper.get()) {
    s->finish();
    return s->finished();
  }
  return true;
}

void Worker::wait_done() {
  Impl& m = *impl_;
  // Keep taking buffers while waiting, so the loops never run out of spares.
  while (!done()) {
    m.drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (m.joined) return;
  for (auto& l : m.loops) {
    l->join();
    l->recorder().loop_joined();
  }
  m.drain();
  for (auto& l : m.loops) {
    if (!l->error().empty()) m.warnings.push_back("loop " + l->error());
  }
  m.joined = true;
}

WorkerReport Worker::final_snapshot() {
  Impl& m = *impl_;
  wait_done();
  WorkerReport r = m.merge(INT64_MAX, true);
  m.scraper.reset();
  m.running = false;
  std::lock_guard<std::mutex> lock(m.mu);
  m.loops.clear();  // every buffer was given back; recorders go with their loops
  return r;
}

std::vector<std::string> Worker::warnings() const {
  return impl_->warnings;
}

}  // namespace llmload::worker
