// Scheduler pacing, phases, limits, grace and drops, driven by a FakeClock (no sleeping).
#include "worker/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "common/load_split.h"
#include "worker/scheduler_closed.h"
#include "worker/scheduler_open.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

// A discrete-event host: each started request finishes after service(ticket) ns (kNever: it
// hangs until cancelled). The simulation advances the FakeClock to the next event.
class SimHost : public SchedulerHost {
 public:
  explicit SimHost(FakeClock& clock) : clock_(clock) {}

  void start_request(const StartTicket& t) override {
    starts.push_back(t);
    start_times.push_back(clock_.now_ns());
    const int64_t d = service ? service(t) : kNever;
    pending.push_back({d == kNever ? kNever : clock_.now_ns() + d, t});
  }
  void on_dropped(const StartTicket& t) override { drops.push_back(t); }
  void cancel_in_flight() override {
    ++cancel_calls;
    auto all = std::move(pending);
    pending.clear();
    for (auto& p : all) {
      ++cancelled;
      sched->on_finished(p.ticket);
    }
  }

  // Runs until `until` (exclusive) or the scheduler is finished. Bounded in steps.
  void run(int64_t until) {
    for (int steps = 0; steps < 2'000'000; ++steps) {
      const int64_t wake = sched->poll();
      if (sched->finished()) return;
      int64_t next = wake;
      for (auto& p : pending) next = std::min(next, p.done_at);
      if (next >= until || next == kNever) {
        clock_.set(std::max(clock_.now_ns(), until));
        sched->poll();
        return;
      }
      clock_.set(std::max(clock_.now_ns(), next));
      finish_due();
    }
    FAIL() << "simulation did not settle";
  }

  void finish_due() {
    for (size_t i = 0; i < pending.size();) {
      if (pending[i].done_at <= clock_.now_ns()) {
        StartTicket t = pending[i].ticket;
        pending.erase(pending.begin() + static_cast<long>(i));
        ++finished;
        sched->on_finished(t);
      } else {
        ++i;
      }
    }
  }

  int64_t measured_starts() const {
    return std::count_if(starts.begin(), starts.end(), [](auto& t) { return t.measured; });
  }

  struct Pending {
    int64_t done_at;
    StartTicket ticket;
  };
  FakeClock& clock_;
  Scheduler* sched = nullptr;
  std::function<int64_t(const StartTicket&)> service;
  std::vector<StartTicket> starts;
  std::vector<int64_t> start_times;
  std::vector<StartTicket> drops;
  std::vector<Pending> pending;
  int cancel_calls = 0;
  int cancelled = 0;
  int finished = 0;
};

struct Fixture {
  explicit Fixture(bool open, SchedulerConfig cfg, int64_t clock_start = 0)
      : clock(clock_start), host(clock) {
    sched = make_scheduler(open, cfg, clock, host);
    host.sched = sched.get();
  }
  FakeClock clock;
  SimHost host;
  std::unique_ptr<Scheduler> sched;
};

SchedulerConfig rate_config(double rate, int64_t duration) {
  SchedulerConfig c;
  c.start_ns = 5 * kS;
  c.initial_level = rate;
  c.duration_ns = duration;
  c.grace_ns = 0;
  return c;
}

// The load split once (common/load_split.h) and each loop's share mapped as it is: a rate over
// workers of 1 and 3 loops gives merged arrivals exactly 1/R apart, and a request budget over
// them is used exactly.
TEST(OpenLoopScheduler, SharesMappedPerLoopGiveTheRunsArrivalsAndBudget) {
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 40;
  load.requests = 37;
  load.grace_ns = 0;
  std::vector<int64_t> intended;
  int64_t measured = 0;
  for (const LoadShare& share : split_load(load, {1, 3}, 9)) {
    for (const LoopShare& loop : share.loops) {
      const SchedulerConfig c = scheduler_config(share, loop, 5 * kS);
      EXPECT_EQ(c.initial_level, 10.0);
      EXPECT_TRUE(c.has_request_limit);
      Fixture f(true, c);
      f.host.service = [](const StartTicket&) { return kMs; };
      f.host.run(60 * kS);
      for (const auto& t : f.host.starts) intended.push_back(t.intended_ns);
      measured += f.host.measured_starts();
    }
  }
  EXPECT_EQ(measured, 37);
  std::sort(intended.begin(), intended.end());
  ASSERT_EQ(intended.size(), 37u);
  for (size_t i = 0; i < intended.size(); ++i)
    EXPECT_EQ(intended[i], 5 * kS + int64_t(i) * 25 * kMs);
}

TEST(OpenLoopScheduler, ConstantRateSpacingIsExact) {
  SchedulerConfig c = rate_config(100, 10 * kS);
  Fixture f(true, c);
  f.host.service = [](const StartTicket&) { return 3 * kMs; };
  f.host.run(20 * kS);
  ASSERT_EQ(f.host.starts.size(), 1000u);  // [5 s, 15 s) at 10 ms
  for (size_t i = 0; i < f.host.starts.size(); ++i) {
    EXPECT_EQ(f.host.starts[i].intended_ns, 5 * kS + int64_t(i) * 10 * kMs) << i;
    EXPECT_TRUE(f.host.starts[i].open_loop);
    EXPECT_TRUE(f.host.starts[i].measured);
    // The simulation wakes exactly on time, so each starts at its intended time.
    EXPECT_EQ(f.host.start_times[i], f.host.starts[i].intended_ns);
  }
  EXPECT_TRUE(f.sched->finished());
  EXPECT_EQ(f.sched->end_ns(), 15 * kS);
}

TEST(OpenLoopScheduler, ConstantRateNonIntegerPeriodDoesNotDrift) {
  SchedulerConfig c = rate_config(3, 100 * kS);
  c.first_arrival_offset_ns = 123;
  Fixture f(true, c);
  f.host.service = [](const StartTicket&) { return kMs; };
  f.host.run(200 * kS);
  ASSERT_EQ(f.host.starts.size(), 300u);
  for (size_t i = 0; i < f.host.starts.size(); ++i) {
    const double exact = 5e9 + 123 + double(i) * 1e9 / 3.0;
    EXPECT_LE(std::abs(double(f.host.starts[i].intended_ns) - exact), 1.0) << i;
  }
}

TEST(OpenLoopScheduler, PoissonGapsHaveExponentialMeanAndVariance) {
  SchedulerConfig c = rate_config(1000, 12 * kS);
  c.poisson = true;
  c.seed = 42;
  Fixture f(true, c);
  f.host.service = [](const StartTicket&) { return 100'000; };
  f.host.run(30 * kS);
  const auto& s = f.host.starts;
  ASSERT_GE(s.size(), 10'000u);
  std::vector<double> gaps;
  for (size_t i = 1; i < s.size(); ++i)
    gaps.push_back(double(s[i].intended_ns - s[i - 1].intended_ns));
  const double n = double(gaps.size());
  double mean = 0;
  for (double g : gaps) mean += g;
  mean /= n;
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= (n - 1);
  const double mu = 1e6;  // 1 ms
  // Mean of n exponential gaps: sd mu/sqrt(n). 5 sigma.
  EXPECT_NEAR(mean, mu, 5 * mu / std::sqrt(n));
  // Sample variance of exponentials: sd ≈ mu² sqrt(8/n). 5 sigma.
  EXPECT_NEAR(var, mu * mu, 5 * mu * mu * std::sqrt(8 / n));
  // Count in 12 s: Poisson(12000), sd ~110.
  EXPECT_NEAR(double(s.size()), 12000, 5 * std::sqrt(12000.0));
  // The same seed gives the same arrivals; another seed does not.
  Fixture g(true, c);
  g.host.service = f.host.service;
  g.host.run(30 * kS);
  ASSERT_EQ(g.host.starts.size(), s.size());
  EXPECT_EQ(g.host.starts[500].intended_ns, s[500].intended_ns);
  c.seed = 43;
  Fixture h(true, c);
  h.host.service = f.host.service;
  h.host.run(30 * kS);
  EXPECT_NE(h.host.starts[500].intended_ns, s[500].intended_ns);
}

TEST(OpenLoopScheduler, RateRampIsLinear) {
  SchedulerConfig c = rate_config(0, 0);
  c.stages = {{10 * kS, 100}};  // 0 → 100/s over 10 s: 500 expected arrivals
  c.duration_ns = 10 * kS;
  Fixture f(true, c);
  f.host.service = [](const StartTicket&) { return kMs; };
  f.host.run(30 * kS);
  // Arrival k at mass k: t_k = sqrt(2k / slope), slope = 10/s².
  ASSERT_EQ(f.host.starts.size(), 500u);  // masses 0..499 (mass 500 falls at the window end)
  for (size_t k = 1; k < 500; k += 37) {
    const double t = std::sqrt(2.0 * double(k) / 10.0) * 1e9;
    EXPECT_LE(std::abs(double(f.host.starts[k].intended_ns - 5 * kS) - t), 2.0) << k;
  }
  // Gaps shrink as the rate grows.
  EXPECT_GT(f.host.starts[10].intended_ns - f.host.starts[9].intended_ns,
            f.host.starts[400].intended_ns - f.host.starts[399].intended_ns);
}

TEST(OpenLoopScheduler, MaxInFlightOverflowIsDroppedAndCounted) {
  SchedulerConfig c = rate_config(100, 1 * kS);
  c.max_in_flight = 5;
  c.grace_ns = 2 * kS;
  Fixture f(true, c);
  // Requests hang until cancelled.
  f.host.run(8 * kS);
  EXPECT_EQ(f.host.starts.size(), 5u);
  EXPECT_EQ(f.host.drops.size(), 95u);
  EXPECT_EQ(f.sched->dropped(), 95);
  EXPECT_EQ(f.sched->measured_dropped(), 95);
  for (auto& d : f.host.drops) EXPECT_TRUE(d.measured);
  EXPECT_EQ(f.host.starts.size() + f.host.drops.size(), 100u);  // nothing silent
}

TEST(OpenLoopScheduler, LateWakeStartsEveryDueArrivalWithItsIntendedTime) {
  SchedulerConfig c = rate_config(1000, 1 * kS);
  Fixture f(true, c);
  f.clock.set(5 * kS + 50 * kMs);  // the loop woke 50 ms late
  f.sched->poll();
  ASSERT_EQ(f.host.starts.size(), 51u);  // 0, 1, ..., 50 ms
  EXPECT_EQ(f.host.starts[0].intended_ns, 5 * kS);
  EXPECT_EQ(f.host.starts[50].intended_ns, 5 * kS + 50 * kMs);
}

TEST(OpenLoopScheduler, WorkPerPollIsBounded) {
  SchedulerConfig c = rate_config(10000, 1 * kS);
  c.max_starts_per_poll = 100;
  Fixture f(true, c);
  f.clock.set(5 * kS + 100 * kMs);
  EXPECT_EQ(f.sched->poll(), 5 * kS + 100 * kMs);  // more is due: poll again now
  EXPECT_EQ(f.host.starts.size(), 100u);
  f.sched->poll();
  EXPECT_EQ(f.host.starts.size(), 200u);
}

TEST(OpenLoopScheduler, WarmupIsGatedByIntendedStart) {
  SchedulerConfig c = rate_config(10, 1 * kS);
  c.warmup_ns = 1 * kS;
  Fixture f(true, c);
  f.host.service = [](const StartTicket&) { return 250 * kMs; };
  f.host.run(10 * kS);
  ASSERT_EQ(f.host.starts.size(), 20u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(f.host.starts[i].measured, i >= 10) << i;
  // The last warmup request (intended 5.9 s) ends inside the window and stays unmeasured.
  EXPECT_EQ(f.sched->measured_started(), 10);
}

TEST(OpenLoopScheduler, RequestBudgetCountsMeasuredStartsOnly) {
  SchedulerConfig c = rate_config(100, 0);
  c.warmup_ns = 100 * kMs;
  c.has_request_limit = true;
  c.requests = 25;
  Fixture f(true, c);
  f.host.service = [](const StartTicket&) { return kMs; };
  f.host.run(100 * kS);
  EXPECT_EQ(f.host.measured_starts(), 25);
  EXPECT_EQ(f.host.starts.size(), 35u);  // 10 warmup + 25 measured
  EXPECT_TRUE(f.sched->finished());
}

SchedulerConfig conc_config(double users) {
  SchedulerConfig c;
  c.start_ns = 1 * kS;
  c.initial_level = users;
  c.grace_ns = 0;
  return c;
}

TEST(ClosedLoopScheduler, RequestLimitGivesExactlyThatManyMeasured) {
  SchedulerConfig c = conc_config(4);
  c.has_request_limit = true;
  c.requests = 10;
  c.grace_ns = 10 * kS;
  Fixture f(false, c);
  f.host.service = [](const StartTicket& t) { return (7 + t.user) * kMs; };
  f.host.run(100 * kS);
  EXPECT_EQ(f.host.starts.size(), 10u);
  EXPECT_EQ(f.host.measured_starts(), 10);
  EXPECT_EQ(f.host.finished, 10);
  EXPECT_TRUE(f.sched->finished());
  EXPECT_EQ(f.host.cancelled, 0);
}

TEST(ClosedLoopScheduler, KeepsNUsersBusyUntilTheDurationEnds) {
  SchedulerConfig c = conc_config(2);
  c.duration_ns = 1 * kS;
  Fixture f(false, c);
  f.host.service = [](const StartTicket&) { return 100 * kMs; };
  f.host.run(10 * kS);
  // Each VU starts at 1.0, 1.1, ..., 1.9 s: 10 each; none at 2.0 s (the window's end).
  EXPECT_EQ(f.host.starts.size(), 20u);
  std::map<int, int> per_user;
  for (auto& t : f.host.starts) per_user[t.user]++;
  EXPECT_EQ(per_user[0], 10);
  EXPECT_EQ(per_user[1], 10);
  EXPECT_EQ(f.sched->end_ns(), 2 * kS);
  EXPECT_TRUE(f.sched->finished());
}

TEST(ClosedLoopScheduler, WarmupRequestsAreNeverMeasured) {
  SchedulerConfig c = conc_config(1);
  c.warmup_ns = 1 * kS;
  c.duration_ns = 1 * kS;
  Fixture f(false, c);
  // 300 ms each: warmup starts at 1.0, 1.3, 1.6, 1.9 (that one ends at 2.2, in the window,
  // and is still unmeasured); measured: 2.2, 2.5, 2.8.
  f.host.service = [](const StartTicket&) { return 300 * kMs; };
  f.host.run(10 * kS);
  ASSERT_EQ(f.host.starts.size(), 7u);
  const std::vector<bool> want = {false, false, false, false, true, true, true};
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(f.host.starts[i].measured, want[i]) << i;
}

TEST(ClosedLoopScheduler, ThinkTimeSpacesAUsersRequests) {
  SchedulerConfig c = conc_config(1);
  c.duration_ns = 1 * kS;
  c.think_time = Distribution::fixed(double(40 * kMs));
  Fixture f(false, c);
  f.host.service = [](const StartTicket&) { return 10 * kMs; };
  f.host.run(5 * kS);
  ASSERT_EQ(f.host.starts.size(), 20u);  // every 50 ms
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(f.host.start_times[i], 1 * kS + int64_t(i) * 50 * kMs);
}

TEST(ClosedLoopScheduler, StagesRampUsersLinearly) {
  SchedulerConfig c = conc_config(0);
  c.stages = {{10 * kS, 10}, {10 * kS, 0}};
  c.duration_ns = 20 * kS;
  c.grace_ns = 0;
  Fixture f(false, c);
  // Requests last 100 ms: users retire on ramp down as their requests end.
  f.host.service = [](const StartTicket&) { return 100 * kMs; };
  auto* cl = static_cast<ClosedLoopScheduler*>(f.sched.get());
  EXPECT_EQ(cl->max_users(), 10);
  for (int s = 1; s <= 19; ++s) {
    f.host.run(1 * kS + s * kS + 50 * kMs);
    const int64_t want = s <= 10 ? s : 20 - s;
    EXPECT_EQ(cl->active_users(), want) << "at " << s << " s";
    EXPECT_EQ(f.sched->in_flight(), want) << "at " << s << " s";
  }
}

TEST(ClosedLoopScheduler, GraceThenCancelled) {
  SchedulerConfig c = conc_config(3);
  c.duration_ns = 1 * kS;
  c.grace_ns = 500 * kMs;
  Fixture f(false, c);
  // User 0 finishes in 1.2 s (inside the grace), the others hang.
  f.host.service = [](const StartTicket& t) { return t.user == 0 ? 1200 * kMs : kNever; };
  f.host.run(2 * kS + 490 * kMs);
  EXPECT_EQ(f.host.cancel_calls, 0);
  EXPECT_EQ(f.host.finished, 1);  // counted normally
  EXPECT_EQ(f.sched->in_flight(), 2);
  f.host.run(2 * kS + 600 * kMs);
  EXPECT_EQ(f.host.cancel_calls, 1);
  EXPECT_EQ(f.host.cancelled, 2);
  EXPECT_TRUE(f.sched->finished());
  EXPECT_EQ(f.host.starts.size(), 3u);  // nothing started after the end
}

TEST(ClosedLoopScheduler, StopEndsAtOnceAndGraceZeroCancels) {
  SchedulerConfig c = conc_config(2);
  c.duration_ns = 100 * kS;
  Fixture f(false, c);
  f.host.run(2 * kS);
  EXPECT_EQ(f.host.starts.size(), 2u);
  f.sched->stop(0);
  EXPECT_TRUE(f.sched->ended());
  f.sched->poll();
  EXPECT_EQ(f.host.cancelled, 2);
  EXPECT_TRUE(f.sched->finished());
}

TEST(ClosedLoopScheduler, NothingStartsBeforeTheStartInstant) {
  SchedulerConfig c = conc_config(2);
  c.duration_ns = 1 * kS;
  Fixture f(false, c, 0);
  EXPECT_EQ(f.sched->poll(), 1 * kS);
  EXPECT_TRUE(f.host.starts.empty());
}

TEST(ClosedLoopScheduler, ZeroBudgetShareEndsWithoutSending) {
  SchedulerConfig c = conc_config(1);
  c.has_request_limit = true;
  c.requests = 0;
  Fixture f(false, c);
  f.host.run(10 * kS);
  EXPECT_TRUE(f.host.starts.empty());
  EXPECT_TRUE(f.sched->finished());
}

TEST(LoadProfile, MassInvertsExactly) {
  LoadProfile p(0, 2 * kS, 10, {{4 * kS, 50}, {2 * kS, 50}});
  EXPECT_DOUBLE_EQ(p.level_at(kS), 10);        // warmup at the initial level
  EXPECT_DOUBLE_EQ(p.level_at(4 * kS), 30);    // half way up the ramp
  EXPECT_DOUBLE_EQ(p.level_at(100 * kS), 50);  // holds
  EXPECT_DOUBLE_EQ(p.mass_at(2 * kS), 20);
  EXPECT_DOUBLE_EQ(p.mass_at(6 * kS), 20 + 120);
  for (double m : {0.5, 19.0, 20.0, 77.7, 140.0, 1000.0}) {
    const int64_t t = p.time_at_mass(m);
    EXPECT_NEAR(p.mass_at(t), m, 1e-6) << m;
  }
  EXPECT_EQ(LoadProfile(0, 0, 0, {}).time_at_mass(1), kNever);
}

}  // namespace
}  // namespace llmload
