// The coordinator and the worker control side over inproc://, driving fake engines: the whole
// protocol (join, clock offsets, RUN, pre-flight, REPORTs, DONE, STOP, BYE) without the load
// engine, so merge, loss and refusal are checked exactly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/wire_socket.h"
#include "coordinator/coordinator.h"
#include "worker/control.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test
using namespace llmload::coord;   // NOLINT: the tests name the types they test

namespace llmload {
namespace {

// Records everything it reports, so a test can merge it independently.
struct Ledger {
  std::mutex mu;
  std::vector<GroupStats> all;
  void add(const IntervalSnapshot& s) {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& g : s.groups) all.push_back(g);
  }
};

class FakeEngine final : public LoadEngine {
 public:
  FakeEngine(int threads, Ledger& ledger, int intervals, bool fail_preflight = false)
      : threads_(threads), ledger_(ledger), intervals_(intervals), fail_(fail_preflight) {}
  int threads() const override { return threads_; }
  PreflightResult preflight(const Scenario&) override {
    if (preflight_delay_ms_ > 0) usleep(useconds_t(preflight_delay_ms_) * 1000);
    PreflightResult r;
    if (fail_) {
      r.ok = false;
      r.error = "http://127.0.0.1:1: connection refused";
    }
    return r;
  }
  Expected<bool> start(RunSpec spec, int64_t start_ns) override {
    spec_ = std::move(spec);
    start_ns_ = start_ns;
    interval_ns_ = spec_.scenario->interval_ns;
    seq_ = 0;
    stopped_ = false;
    started_ = true;
    ever_started_ = true;
    return true;
  }
  std::optional<WorkerReport> next_interval(int64_t) override {
    if (stopped_ || seq_ >= intervals_) return std::nullopt;
    const int64_t end = start_ns_ + (seq_ + 1) * interval_ns_;
    if (mono_now_ns() < end) return std::nullopt;
    WorkerReport r;
    r.sequence = seq_;
    r.snapshot.start_ns = end - interval_ns_;
    r.snapshot.end_ns = end;
    r.snapshot.in_flight = int64_t(spec_.share.level());
    GroupStats& g = r.snapshot.group({{"model", "m"}, {"target", "t"}});
    const int64_t n = 5 + spec_.share.index * 3;
    for (int64_t i = 0; i < n; ++i) {
      g.record(Metric::kTtft, 1000 * (spec_.share.index + 1) + 97 * i + 13 * seq_);
      g.counters.requests++;
      g.counters.ok++;
      g.counters.output_tokens += 10;
    }
    ledger_.add(r.snapshot);
    ++seq_;
    return r;
  }
  void stop(int64_t) override { stopped_ = true; }
  bool done() const override { return started_ && (stopped_ || seq_ >= intervals_); }
  void wait_done() override {}
  WorkerReport final_snapshot() override {
    WorkerReport r;
    r.sequence = seq_;
    r.last = true;
    started_ = false;
    return r;
  }
  std::vector<std::string> warnings() const override { return {}; }
  const RunSpec& spec() const { return spec_; }
  void set_preflight_delay_ms(int ms) { preflight_delay_ms_ = ms; }
  bool ever_started() const { return ever_started_; }
  int64_t start_ns() const { return start_ns_; }

 private:
  int threads_;
  Ledger& ledger_;
  int intervals_;
  bool fail_;
  RunSpec spec_;
  std::atomic<int64_t> start_ns_{0};
  int64_t interval_ns_ = 0;
  int64_t seq_ = 0;
  std::atomic<bool> stopped_{false};
  bool started_ = false;
  std::atomic<bool> ever_started_{false};
  int preflight_delay_ms_ = 0;
};

Scenario make_scenario() {
  Scenario s;
  s.name = "fake";
  Target t;
  t.name = "t";
  t.url = "http://127.0.0.1:1";
  t.models = {ModelChoice{"m", 1}};
  s.targets = {t};
  s.load.mode = LoadMode::kConcurrency;
  s.load.concurrency = 6;
  s.load.duration_ns = 1'000'000'000;
  s.load.grace_ns = 1'000'000'000;
  s.interval_ns = 200'000'000;
  return s;
}

std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("llmload-coord-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

struct Harness {
  zmq::context_t ctx{1};
  std::string endpoint;
  CoordinatorOptions opt;
  std::unique_ptr<Coordinator> coord;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;

  Harness(const std::string& name, int workers, int64_t join_timeout_ns = 5'000'000'000,
          int64_t preflight_timeout_ns = 10'000'000'000) {
    opt.bind = "inproc://" + name;
    opt.context = &ctx;
    opt.workers = workers;
    opt.start_lead_ns = 300'000'000;
    opt.join_timeout_ns = join_timeout_ns;
    opt.preflight_timeout_ns = preflight_timeout_ns;
    opt.progress = ProgressMode::kQuiet;
    opt.log = nullptr;
    opt.out_dir = temp_dir(name);
    coord = std::make_unique<Coordinator>(opt);
    auto b = coord->bind();
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error());
    endpoint = b.ok() ? b.value() : "";
  }
  void add_worker(LoadEngine& engine, const std::string& id, int64_t protocol = 0,
                  Expected<bool>* result = nullptr) {
    threads.emplace_back([this, &engine, id, protocol, result] {
      ControlOptions c;
      c.connect = endpoint;
      c.context = &ctx;
      c.worker_id = id;
      c.log = nullptr;
      c.stop = &stop;
      c.one_session = true;
      c.protocol = protocol;
      WorkerControl wc(c, engine);
      auto r = wc.serve();
      if (result) *result = r;
    });
  }
  ~Harness() {
    stop = true;
    for (auto& t : threads) t.join();
    coord.reset();
  }
};

TEST(CoordinatorRun, ThreeWorkersMergeExactly) {
  Ledger ledger;
  FakeEngine e1(1, ledger, 5), e2(2, ledger, 5), e3(3, ledger, 5);
  Harness h("merge", 3);
  h.add_worker(e1, "w1");
  h.add_worker(e2, "w2");
  h.add_worker(e3, "w3");
  Scenario s = make_scenario();
  RunOutcome out = h.coord->run(s, {}, "run-merge");
  EXPECT_EQ(out.exit_code, kExitOk) << out.message;
  EXPECT_EQ(out.result.run.status, RunStatus::kCompleted);
  ASSERT_EQ(out.result.run.workers.size(), 3u);

  // Shares follow the thread counts: 6 over 1:2:3.
  EXPECT_EQ(e1.spec().share.level() + e2.spec().share.level() + e3.spec().share.level(), 6);
  EXPECT_EQ(e3.spec().share.level(), 3);

  GroupStats single;
  {
    std::lock_guard<std::mutex> l(ledger.mu);
    for (const auto& g : ledger.all) single.merge(g);
  }
  Counters sum;
  for (const auto& w : out.result.run.workers) {
    EXPECT_EQ(w.status, WorkerStatus::kOk);
    sum.merge(w.totals);
  }
  EXPECT_EQ(sum, out.result.total.counters);
  EXPECT_EQ(out.result.total.counters, single.counters);
  EXPECT_EQ(out.result.total.counters.requests, 5 * (5 + 8 + 11));
  ASSERT_NE(out.result.total.histogram(Metric::kTtft), nullptr);
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(out.result.total.histogram(Metric::kTtft)->value_at_percentile(p),
              single.histogram(Metric::kTtft)->value_at_percentile(p));
  }
  EXPECT_TRUE(out.results_written);
  EXPECT_TRUE(std::filesystem::exists(h.opt.out_dir + "/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(h.opt.out_dir + "/timeseries.csv"));
  EXPECT_EQ(out.result.intervals.size(), 5u);
}

TEST(CoordinatorRun, PreflightFailureStopsEveryoneWithExit2) {
  Ledger ledger;
  FakeEngine good(1, ledger, 5), bad(1, ledger, 5, /*fail_preflight=*/true);
  Harness h("preflight", 2);
  h.add_worker(good, "good");
  h.add_worker(bad, "bad");
  Scenario s = make_scenario();
  RunOutcome out = h.coord->run(s, {}, "run-pf");
  EXPECT_EQ(out.exit_code, kExitUsage);
  EXPECT_NE(out.message.find("worker bad"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("http://127.0.0.1:1"), std::string::npos) << out.message;
  std::lock_guard<std::mutex> l(ledger.mu);
  EXPECT_TRUE(ledger.all.empty());  // no load anywhere
}

// The start waits for every verdict, however slow a pre-flight is (within the bound): a worker
// whose pre-flight takes 1.5 s is started with the others, and nobody starts before it passed.
TEST(CoordinatorRun, TheStartWaitsForASlowPreflightVerdict) {
  Ledger ledger;
  FakeEngine prompt(1, ledger, 3), slow(1, ledger, 3);
  slow.set_preflight_delay_ms(1500);
  Harness h("slowpf", 2, 5'000'000'000, 20'000'000'000);
  h.add_worker(prompt, "prompt");
  h.add_worker(slow, "slow");
  Scenario s = make_scenario();
  const int64_t t0 = mono_now_ns();
  RunOutcome out = h.coord->run(s, {}, "run-slowpf");
  EXPECT_EQ(out.exit_code, kExitOk) << out.message;
  ASSERT_EQ(out.result.run.workers.size(), 2u);
  for (const auto& w : out.result.run.workers) EXPECT_EQ(w.status, WorkerStatus::kOk) << w.id;
  ASSERT_TRUE(prompt.ever_started());
  ASSERT_TRUE(slow.ever_started());
  // GO came after the slow verdict: neither start instant is before t0 + 1.5 s.
  EXPECT_GE(prompt.start_ns(), t0 + 1'500'000'000);
  EXPECT_GE(slow.start_ns(), t0 + 1'500'000'000);
}

// A verdict not in within --preflight-timeout: that worker is never started (no GO; told STOP),
// counts as lost by name, the others carry the whole load, and the run is partial.
TEST(CoordinatorRun, AVerdictBeyondTheBoundIsNeverStartedAndNamed) {
  Ledger ledger;
  FakeEngine prompt(1, ledger, 3), slow(1, ledger, 3);
  slow.set_preflight_delay_ms(1500);
  Harness h("latepf", 2, 5'000'000'000, 500'000'000);
  h.add_worker(prompt, "prompt");
  h.add_worker(slow, "slow");
  Scenario s = make_scenario();
  RunOutcome out = h.coord->run(s, {}, "run-latepf");
  EXPECT_EQ(out.exit_code, kExitIncomplete) << out.message;
  EXPECT_EQ(out.result.run.status, RunStatus::kPartial);
  EXPECT_NE(out.message.find("slow (no pre-flight verdict within --preflight-timeout 0.5s)"),
            std::string::npos)
      << out.message;
  ASSERT_EQ(out.result.run.workers.size(), 2u);
  for (const auto& w : out.result.run.workers) {
    EXPECT_EQ(w.status, w.id == "slow" ? WorkerStatus::kLost : WorkerStatus::kOk) << w.id;
  }
  bool warned = false;
  for (const auto& w : out.result.run.warnings) {
    warned = warned || w.find("worker slow lost: no pre-flight verdict") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  ASSERT_TRUE(prompt.ever_started());
  EXPECT_EQ(prompt.spec().share.level(), 6);  // the whole load: the lost took no share
  // Give the slow worker time to finish its pre-flight (it passes): it is never started.
  for (int i = 0; i < 40 && !slow.ever_started(); ++i) usleep(50'000);
  EXPECT_FALSE(slow.ever_started());
  EXPECT_GT(out.result.total.counters.ok, 0);
}

TEST(CoordinatorRun, ProtocolMismatchIsRefusedOnBothSides) {
  Ledger ledger;
  FakeEngine e(1, ledger, 1);
  Harness h("version", 1, 1'500'000'000);
  Expected<bool> worker_result = true;
  h.add_worker(e, "old", /*protocol=*/99, &worker_result);
  Scenario s = make_scenario();
  RunOutcome out = h.coord->run(s, {}, "run-v");
  EXPECT_EQ(out.exit_code, kExitUsage);
  EXPECT_NE(out.message.find("0 joined"), std::string::npos) << out.message;
  EXPECT_EQ(h.coord->rejected_hellos(), 1);
  h.stop = true;
  for (auto& t : h.threads) t.join();
  h.threads.clear();
  ASSERT_FALSE(worker_result.ok());
  EXPECT_NE(worker_result.error().find("protocol version 99"), std::string::npos)
      << worker_result.error();
}

TEST(CoordinatorRun, SilentWorkerIsLostDataKeptRunPartial) {
  Ledger ledger;
  FakeEngine e(1, ledger, 5);
  Harness h("silent", 2);
  h.add_worker(e, "alive");
  // A raw peer that says HELLO and then nothing at all.
  zmq::socket_t mute(h.ctx, zmq::socket_type::dealer);
  mute.set(zmq::sockopt::linger, 0);
  mute.connect(h.endpoint);
  ASSERT_TRUE(wire::send_message(mute, wire::Hello{wire::kProtocolVersion, "mute", "h", 1, "x"}));
  Scenario s = make_scenario();
  s.load.duration_ns = 4'000'000'000;  // long enough for 3 s of silence
  RunOutcome out = h.coord->run(s, {}, "run-silent");
  EXPECT_EQ(out.exit_code, kExitIncomplete) << out.message;
  EXPECT_EQ(out.result.run.status, RunStatus::kPartial);
  ASSERT_EQ(out.result.run.workers.size(), 2u);
  for (const auto& w : out.result.run.workers) {
    EXPECT_EQ(w.status, w.id == "mute" ? WorkerStatus::kLost : WorkerStatus::kOk) << w.id;
    if (w.id == "alive") {
      EXPECT_GT(w.totals.ok, 0);
    }
  }
  EXPECT_GT(out.result.total.counters.ok, 0);
}

TEST(CoordinatorRun, GarbageFromAStrangerChangesNothing) {
  Ledger ledger;
  FakeEngine e(1, ledger, 3);
  Harness h("garbage", 1);
  zmq::socket_t junk(h.ctx, zmq::socket_type::dealer);
  junk.set(zmq::sockopt::linger, 0);
  junk.connect(h.endpoint);
  junk.send(zmq::str_buffer("\xff\x00garbage"), zmq::send_flags::none);
  junk.send(zmq::str_buffer("REPORT"), zmq::send_flags::sndmore);
  junk.send(zmq::str_buffer("\xdd\xff\xff\xff\xff"), zmq::send_flags::none);
  junk.send(zmq::str_buffer("PING"), zmq::send_flags::sndmore);
  junk.send(zmq::str_buffer("\x80"), zmq::send_flags::none);  // a PING from a stranger
  h.add_worker(e, "w");
  Scenario s = make_scenario();
  s.load.duration_ns = 600'000'000;
  RunOutcome out = h.coord->run(s, {}, "run-garbage");
  EXPECT_EQ(out.exit_code, kExitOk) << out.message;
  EXPECT_GE(h.coord->malformed_messages(), 2);
  EXPECT_EQ(out.result.run.workers.size(), 1u);
}

TEST(CoordinatorBind, NonLoopbackNeedsCurveOrAllowInsecure) {
  EXPECT_TRUE(is_local_endpoint("tcp://127.0.0.1:5557"));
  EXPECT_TRUE(is_local_endpoint("tcp://[::1]:5557"));
  EXPECT_TRUE(is_local_endpoint("tcp://localhost:*"));
  EXPECT_TRUE(is_local_endpoint("inproc://x"));
  EXPECT_FALSE(is_local_endpoint("tcp://0.0.0.0:5557"));
  EXPECT_FALSE(is_local_endpoint("tcp://127.example.com:1"));
  EXPECT_FALSE(is_local_endpoint("tcp://*:5557"));
  CoordinatorOptions o;
  o.bind = "tcp://0.0.0.0:0";
  o.log = nullptr;
  Coordinator c(o);
  auto b = c.bind();
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("--allow-insecure"), std::string::npos);
}

TEST(CoordinatorExit, PriorityAndStatus) {
  EXPECT_EQ(exit_code_for({false, false, false, false, 5, false}), kExitOk);
  EXPECT_EQ(exit_code_for({false, false, false, false, 0, false}), kExitIncomplete);
  EXPECT_EQ(exit_code_for({false, false, false, false, 5, true}), kExitAssertion);
  EXPECT_EQ(exit_code_for({false, false, true, true, 0, true}), kExitAborted);
  EXPECT_EQ(exit_code_for({false, true, true, true, 0, true}), kExitUsage);
  EXPECT_EQ(exit_code_for({true, true, true, true, 0, true}), kExitInternal);
  EXPECT_EQ(exit_code_for({false, false, false, true, 5, true}), kExitIncomplete);
  EXPECT_EQ(status_for_exit(kExitAssertion), RunStatus::kCompleted);
  EXPECT_EQ(status_for_exit(kExitIncomplete), RunStatus::kPartial);
  EXPECT_EQ(status_for_exit(kExitAborted), RunStatus::kAborted);
}

}  // namespace
}  // namespace llmload
