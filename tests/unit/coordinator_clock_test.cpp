// The coordinator's join, pre-flight bound, start instant and heartbeat logic under a FakeClock:
// a scripted worker (a bare DEALER speaking the wire protocol) and a test thread that moves the
// coordinator's clock. Each step is lock-step: the worker pings and waits for the coordinator's
// PONG before the clock moves, so the coordinator has read everything at the current time. A
// 120 s join timeout or a 60 s pre-flight bound is crossed in milliseconds of real time, and
// the start instant is checked to the nanosecond.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/wire_socket.h"
#include "coordinator/coordinator.h"

using namespace llmload::coord;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

// A worker whose every move the test makes. Its own clock is the coordinator's fake clock plus
// `offset_ns`, so the offset the coordinator measures is known exactly.
class ScriptedWorker {
 public:
  ScriptedWorker(zmq::context_t& ctx, const std::string& endpoint, FakeClock& clock, std::string id,
                 int64_t offset_ns = 0)
      : socket_(ctx, zmq::socket_type::dealer),
        clock_(clock),
        id_(std::move(id)),
        offset_ns_(offset_ns) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }

  int64_t now() const { return clock_.now_ns() + offset_ns_; }
  void send(const wire::Message& m) { ASSERT_TRUE(wire::send_message(socket_, m)); }
  void hello() { send(wire::Hello{wire::kProtocolVersion, id_, "scripted-host", 1, "test"}); }

  // Reads what arrives within `wait_ms` of real time; answers every PING (unless silent).
  // Returns false when nothing came.
  bool read(int wait_ms) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(wait_ms)) <= 0) return false;
    while (auto raw = wire::recv_message(socket_, false)) {
      auto m = wire::decode(raw->type, raw->body);
      if (!m) continue;
      if (auto* p = std::get_if<wire::Ping>(&m.value())) {
        ++pings_seen;
        if (!silent) send(wire::Pong{p->seq, p->sent_ns, now()});
        continue;
      }
      if (auto* p = std::get_if<wire::Pong>(&m.value())) {
        last_pong = p->seq;
        continue;
      }
      got.push_back(std::move(m.value()));
    }
    return true;
  }

  // One lock-step heartbeat: PING, then wait (real time, bounded: 10 s, for a machine whose
  // other work stalls the coordinator's thread) for its PONG. False when none came (the
  // coordinator's run is over).
  bool ping_and_wait() {
    const int64_t seq = ++ping_seq;
    send(wire::Ping{seq, now()});
    for (int i = 0; i < 1000 && last_pong < seq; ++i) read(10);
    return last_pong >= seq;
  }

  template <class T>
  const T* first() const {
    for (const auto& m : got) {
      if (auto* p = std::get_if<T>(&m)) return p;
    }
    return nullptr;
  }

  // Waits (real time, bounded) for a message of type T, answering PINGs meanwhile.
  template <class T>
  const T* await(int max_ms = 5000) {
    for (int waited = 0; waited < max_ms && first<T>() == nullptr; waited += 10) read(10);
    return first<T>();
  }

  bool silent = false;
  std::vector<wire::Message> got;
  int64_t ping_seq = 0;
  int64_t last_pong = 0;
  int64_t pings_seen = 0;  // the coordinator's heartbeats

 private:
  zmq::socket_t socket_;
  FakeClock& clock_;
  std::string id_;
  int64_t offset_ns_;
};

struct ClockHarness {
  zmq::context_t ctx{1};
  FakeClock clock{1'000 * kSec};
  CoordinatorOptions opt;
  std::unique_ptr<Coordinator> coord;
  std::string endpoint;
  std::future<RunOutcome> outcome;
  Scenario scenario;

  ClockHarness(const std::string& name, int workers) {
    opt.bind = "inproc://clock-" + name;
    opt.context = &ctx;
    opt.workers = workers;
    opt.clock = &clock;  // defaults kept: join 120 s, pre-flight 60 s, start lead 1 s
    opt.progress = ProgressMode::kQuiet;
    opt.log = nullptr;
    opt.out_dir = (std::filesystem::temp_directory_path() /
                   ("llmload-clock-" + name + "-" + std::to_string(::getpid())))
                      .string();
    std::filesystem::remove_all(opt.out_dir);
    coord = std::make_unique<Coordinator>(opt);
    auto b = coord->bind();
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error());
    endpoint = b.ok() ? b.value() : "";
    Target t;
    t.name = "t";
    t.url = "http://127.0.0.1:1";
    t.models = {ModelChoice{"m", 1}};
    scenario.name = "clock";
    scenario.targets = {t};
    scenario.load.concurrency = 4;
    scenario.load.duration_ns = 600 * kSec;
    scenario.load.grace_ns = kSec;
    scenario.interval_ns = kSec;
  }
  ~ClockHarness() {
    // A test that failed half-way leaves the run waiting on a clock nobody moves: move it in
    // big steps until every deadline has passed (bounded), so a failure never hangs.
    for (int i = 0; i < 1000 && outcome.valid() && !over(); ++i) {
      clock.advance(10 * kSec);
      usleep(10'000);
    }
    if (outcome.valid()) outcome.wait();
    coord.reset();
    std::filesystem::remove_all(opt.out_dir);
  }
  void run() {
    outcome =
        std::async(std::launch::async, [this] { return coord->run(scenario, {}, "run-clock"); });
  }
  bool over() const {
    return outcome.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready;
  }
  // Moves the clock `total` forward in `step`s, a lock-step heartbeat from each worker before
  // every step, until `until` holds, a heartbeat goes unanswered or the time is used up.
  // Returns the time moved.
  template <class Until>
  int64_t advance(std::vector<ScriptedWorker*> alive, int64_t total, int64_t step, Until until) {
    int64_t moved = 0;
    while (moved < total && !until()) {
      for (ScriptedWorker* w : alive) {
        if (!w->ping_and_wait()) return moved;
      }
      clock.advance(step);
      moved += step;
    }
    return moved;
  }
  // Moves the clock with `w` silent: after each step, waits (real time, bounded) for the
  // coordinator's next heartbeat to `w`, so it has looked at the clock's new time.
  template <class Until>
  int64_t advance_silent(ScriptedWorker& w, int64_t total, int64_t step, Until until) {
    int64_t moved = 0;
    while (moved < total && !until()) {
      const int64_t seen = w.pings_seen;
      clock.advance(step);
      moved += step;
      for (int i = 0; i < 20 && w.pings_seen == seen && !until(); ++i) w.read(10);
    }
    return moved;
  }
};

// The join waits by the coordinator's clock: a worker that never comes fails the run after
// exactly the join timeout (120 s), naming who did come, while the one that joined and kept
// its heartbeat is never counted lost.
TEST(CoordinatorClock, JoinTimeoutIsTheClocksNotTheWalls) {
  ClockHarness h("join", 2);
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "w1");
  w.hello();
  ASSERT_NE(w.await<wire::Welcome>(), nullptr);
  // 119 s of the clock (each second with a heartbeat round trip): still waiting.
  EXPECT_EQ(h.advance({&w}, 119 * kSec, kSec, [] { return false; }), 119 * kSec);
  ASSERT_TRUE(w.ping_and_wait());
  EXPECT_FALSE(h.over());
  // The 120th second: the run ends on its own, without another move of the clock.
  h.clock.advance(kSec);
  for (int i = 0; i < 500 && !h.over(); ++i) w.read(10);
  ASSERT_TRUE(h.over());
  const RunOutcome out = h.outcome.get();
  EXPECT_EQ(out.exit_code, kExitUsage);
  EXPECT_NE(out.message.find("waited 120 s for 2 worker(s): 1 joined (w1 on scripted-host), 1 "
                             "missing; no load was sent"),
            std::string::npos)
      << out.message;
  EXPECT_EQ(w.first<wire::Run>(), nullptr);
}

// RUN, a verdict, PING bursts for the offset, then GO: the start instant is the moment of the
// GO decision plus the start lead, on the WORKER's clock (offset measured by PING/PONG while the
// clock stood still, so exactly).
TEST(CoordinatorClock, TheStartInstantIsGoPlusTheLeadOnTheWorkersClock) {
  ClockHarness h("start", 1);
  const int64_t offset = 5'000 * kSec + 123;
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "w1", offset);
  w.hello();
  const wire::Run* run = w.await<wire::Run>();
  ASSERT_NE(run, nullptr);
  const int64_t run_sent = h.clock.now_ns();  // the clock has not moved since
  w.send(wire::Report{run->run_id, 0, wire::Preflight{}, std::nullopt, false, {}});
  // The offset bursts last 200 ms of the coordinator's clock: walk through them in 10 ms steps,
  // answering every PING while the clock stands still.
  for (int i = 0; i < 20; ++i) {
    for (int k = 0; k < 3; ++k) w.read(2);
    w.ping_and_wait();
    h.clock.advance(10 * kMs);
  }
  const wire::Go* go = w.await<wire::Go>();
  ASSERT_NE(go, nullptr) << "no GO after the verdict and the bursts";
  const int64_t go_decided = h.clock.now_ns();
  EXPECT_EQ(go_decided, run_sent + 200 * kMs);
  EXPECT_EQ(go->start_ns, go_decided + h.opt.start_lead_ns + offset);
  EXPECT_EQ(go->share.loops.size(), 1u);
  EXPECT_EQ(go->share.level(), 4);
  // End it: the worker falls silent, is lost, and the run ends once its report wait is over.
  w.silent = true;
  h.advance_silent(w, 60 * kSec, 500 * kMs, [&] { return h.over(); });
  ASSERT_TRUE(h.over());
}

// A pre-flight verdict not in by --preflight-timeout (60 s by default) on the coordinator's
// clock: the worker is told STOP, by name, and never gets GO.
TEST(CoordinatorClock, ThePreflightBoundIsTheClocks) {
  ClockHarness h("preflight", 1);
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "slow");
  w.hello();
  ASSERT_NE(w.await<wire::Run>(), nullptr);
  // 59 s of the clock, a heartbeat round trip each second: no STOP yet (one sent before a PONG
  // would have arrived before it).
  h.advance({&w}, 59 * kSec, kSec, [] { return false; });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w.ping_and_wait());
  EXPECT_EQ(w.first<wire::Stop>(), nullptr);
  // The 60th second: STOP comes with the clock standing still there.
  h.clock.advance(kSec);
  for (int i = 0; i < 100 && w.first<wire::Stop>() == nullptr; ++i) w.ping_and_wait();
  const wire::Stop* stop = w.first<wire::Stop>();
  ASSERT_NE(stop, nullptr);
  EXPECT_NE(stop->reason.find("no pre-flight verdict within --preflight-timeout 60s"),
            std::string::npos)
      << stop->reason;
  for (int i = 0; i < 500 && !h.over(); ++i) w.read(10);
  ASSERT_TRUE(h.over());
  const RunOutcome out = h.outcome.get();
  EXPECT_NE(out.exit_code, kExitOk);
  EXPECT_EQ(w.first<wire::Go>(), nullptr);  // never started
}

// Heartbeats while running: a worker that keeps answering for 20 s of the clock is never lost;
// silent for 3 s it is declared lost and told STOP; the run waits 15 s for its final report and
// then ends partial, naming it.
TEST(CoordinatorClock, SilenceOfThreeSecondsLosesAWorkerAndNothingLess) {
  ClockHarness h("heartbeat", 1);
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "quiet");
  w.hello();
  const wire::Run* run = w.await<wire::Run>();
  ASSERT_NE(run, nullptr);
  w.send(wire::Report{run->run_id, 0, wire::Preflight{}, std::nullopt, false, {}});
  h.advance({&w}, 2 * kSec, 10 * kMs, [&] { return w.first<wire::Go>() != nullptr; });
  ASSERT_NE(w.await<wire::Go>(), nullptr);
  // 20 s of heartbeats, 2.5 s apart at most: never lost.
  h.advance({&w}, 20 * kSec, 2'500 * kMs, [] { return false; });
  EXPECT_EQ(w.first<wire::Stop>(), nullptr);
  ASSERT_TRUE(w.ping_and_wait());  // last heard: now
  // Silent from here: lost once 3 s of the clock passed without a word from it (the coordinator
  // looks at every 500 ms step: its heartbeat to the worker says so).
  w.silent = true;
  const int64_t moved = h.advance_silent(w, 10 * kSec, 500 * kMs, [&] {
    w.read(20);  // a STOP follows its heartbeat at once
    return w.first<wire::Stop>() != nullptr;
  });
  const wire::Stop* stop = w.first<wire::Stop>();
  ASSERT_NE(stop, nullptr);
  EXPECT_NE(stop->reason.find("declared lost: silent for 3.0 s"), std::string::npos)
      << stop->reason;
  EXPECT_GE(moved, 3 * kSec);
  EXPECT_LE(moved, 3'500 * kMs);
  // Its final report is waited for 15 s of the clock, then the run ends partial.
  const int64_t waited = h.advance_silent(w, 30 * kSec, 500 * kMs, [&] { return h.over(); });
  for (int i = 0; i < 100 && !h.over(); ++i) usleep(10'000);
  EXPECT_GE(waited, 15 * kSec);
  ASSERT_TRUE(h.over());
  const RunOutcome out = h.outcome.get();
  EXPECT_EQ(out.exit_code, kExitIncomplete) << out.message;
  ASSERT_EQ(out.result.run.workers.size(), 1u);
  EXPECT_EQ(out.result.run.workers[0].status, WorkerStatus::kLost);
}

// Drives a one-worker run to the STOP of an overrun: GO, then heartbeats (lock-step, 500 ms
// steps) until the planned end (2 s of load + 1 s grace + 15 s) has passed and STOP came. The
// drain deadline is then the STOP's instant + its grace (0) + drain_slack_ns. Returns the run id.
std::string run_to_overrun_stop(ClockHarness& h, ScriptedWorker& w) {
  w.hello();
  const wire::Run* run = w.await<wire::Run>();
  EXPECT_NE(run, nullptr);
  if (run == nullptr) return "";
  const std::string run_id = run->run_id;
  w.send(wire::Report{run_id, 0, wire::Preflight{}, std::nullopt, false, {}});
  h.advance({&w}, 2 * kSec, 10 * kMs, [&] { return w.first<wire::Go>() != nullptr; });
  EXPECT_NE(w.await<wire::Go>(), nullptr);
  // A heartbeat lost to a stalled machine ends one advance early: retried (bounded).
  for (int i = 0; i < 5 && w.first<wire::Stop>() == nullptr && !h.over(); ++i)
    h.advance({&w}, 40 * kSec, 500 * kMs, [&] { return w.first<wire::Stop>() != nullptr; });
  const wire::Stop* stop = w.first<wire::Stop>();
  EXPECT_NE(stop, nullptr);
  if (stop) {
    EXPECT_EQ(stop->reason, "the run overran its planned end");
  }
  return run_id;
}

// The final interval of a scripted worker: 7 ok requests, each with a ttft.
IntervalSnapshot final_snapshot(int64_t now) {
  IntervalSnapshot s;
  s.start_ns = now - kSec;
  s.end_ns = now;
  s.window_end_ns = now;
  GroupStats& g = s.group(Labels{{"model", "m"}, {"target", "t"}});
  g.counters.requests = 7;
  g.counters.ok = 7;
  g.counters.tokens_counted = 7;
  for (int i = 0; i < 7; ++i) g.record(Metric::kTtft, 1'000 + i);
  return s;
}

// The drain after STOP on a coordinator that is behind: a worker whose final REPORT and DONE
// come long after the drain deadline (STOP + grace + 5 s), but which kept its heartbeat all the
// while, is waited for, not declared lost: its data is merged and the run is complete, exact.
TEST(CoordinatorClock, AWorkerStillHeardPastTheDrainDeadlineIsWaitedFor) {
  ClockHarness h("drain-heard", 1);
  h.scenario.load.duration_ns = 2 * kSec;
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "behind");
  const std::string run_id = run_to_overrun_stop(h, w);
  ASSERT_FALSE(run_id.empty());
  // 60 s of heartbeats past the STOP: the drain deadline (5 s) is long gone, the run waits.
  EXPECT_EQ(h.advance({&w}, 60 * kSec, 500 * kMs, [] { return false; }), 60 * kSec);
  ASSERT_TRUE(w.ping_and_wait());
  EXPECT_FALSE(h.over()) << "the run ended while its worker was still heard from";
  w.send(wire::Report{run_id, 1, std::nullopt, final_snapshot(w.now()), true, {}});
  w.send(wire::Done{run_id, 1, ""});
  for (int i = 0; i < 500 && !h.over(); ++i) w.read(10);
  ASSERT_TRUE(h.over());
  const RunOutcome out = h.outcome.get();
  EXPECT_EQ(out.exit_code, kExitOk) << out.message;
  EXPECT_EQ(out.result.run.status, RunStatus::kCompleted);
  ASSERT_EQ(out.result.run.workers.size(), 1u);
  EXPECT_EQ(out.result.run.workers[0].status, WorkerStatus::kOk);
  EXPECT_EQ(out.result.total.counters.requests, 7);
  EXPECT_EQ(out.result.total.counters.ok, 7);
  EXPECT_EQ(out.result.total.count(Metric::kTtft), 7);
}

// A worker silent after STOP is still declared lost, by its silence: 3 s without a word once
// the drain deadline has passed ends the run, partial, naming it. Its data so far is kept.
TEST(CoordinatorClock, AWorkerSilentAfterStopIsLostBySilence) {
  ClockHarness h("drain-silent", 1);
  h.scenario.load.duration_ns = 2 * kSec;
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "gone");
  ASSERT_FALSE(run_to_overrun_stop(h, w).empty());
  w.silent = true;
  const int64_t moved = h.advance_silent(w, 60 * kSec, 500 * kMs, [&] { return h.over(); });
  for (int i = 0; i < 100 && !h.over(); ++i) usleep(10'000);
  ASSERT_TRUE(h.over());
  // Lost on its silence (3 s), ended at the latest at the drain deadline (5 s after STOP) plus
  // the wait for a lost worker's final REPORT (15 s); never at the 120 s bound.
  EXPECT_GE(moved, 3 * kSec);
  EXPECT_LE(moved, 21 * kSec);
  const RunOutcome out = h.outcome.get();
  EXPECT_EQ(out.exit_code, kExitIncomplete) << out.message;
  ASSERT_EQ(out.result.run.workers.size(), 1u);
  EXPECT_EQ(out.result.run.workers[0].status, WorkerStatus::kLost);
}

// A worker that keeps its heartbeat but never sends DONE is waited for only up to the bound:
// max_drain_overrun_ns past the drain deadline it is declared lost, by name, and the run ends
// partial.
TEST(CoordinatorClock, TheDrainWaitsForAHeardWorkerOnlyUpToItsBound) {
  ClockHarness h("drain-bound", 1);
  h.scenario.load.duration_ns = 2 * kSec;
  h.coord->options().max_drain_overrun_ns = 30 * kSec;
  h.run();
  ScriptedWorker w(h.ctx, h.endpoint, h.clock, "stuck");
  ASSERT_FALSE(run_to_overrun_stop(h, w).empty());
  // Deadline: STOP + 5 s; bound: 30 s past it. 34 s of heartbeats: still waiting.
  h.advance({&w}, 34 * kSec, 500 * kMs, [] { return false; });
  ASSERT_TRUE(w.ping_and_wait());
  EXPECT_FALSE(h.over());
  const int64_t moved = h.advance({&w}, 10 * kSec, 500 * kMs, [&] { return h.over(); });
  for (int i = 0; i < 100 && !h.over(); ++i) w.read(10);
  ASSERT_TRUE(h.over());
  // Ended by the 30 s bound (35 s after STOP), far before the default's 120 s; the exact step
  // depends on when the coordinator's thread saw the clock.
  EXPECT_LE(moved, 10 * kSec);
  const RunOutcome out = h.outcome.get();
  EXPECT_EQ(out.exit_code, kExitIncomplete) << out.message;
  ASSERT_EQ(out.result.run.workers.size(), 1u);
  EXPECT_EQ(out.result.run.workers[0].status, WorkerStatus::kLost);
  bool named = false;
  for (const auto& warn : out.result.run.warnings)
    named = named || warn.find(
                         "worker stuck lost: no DONE within 35s after STOP (still heard "
                         "from; the drain's bound)") != std::string::npos;
  EXPECT_TRUE(named) << ::testing::PrintToString(out.result.run.warnings);
}

}  // namespace
}  // namespace llmload
