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

  // One lock-step heartbeat: PING, then wait (real time, bounded) for its PONG. False when
  // none came (the coordinator's run is over).
  bool ping_and_wait() {
    const int64_t seq = ++ping_seq;
    send(wire::Ping{seq, now()});
    for (int i = 0; i < 200 && last_pong < seq; ++i) read(10);
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

}  // namespace
}  // namespace llmload
