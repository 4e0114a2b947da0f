// The client's CPU health: /proc/stat parsing and steal shares, process CPU over wall time,
// the interval gauges on the wire, and the coordinator's per-worker weighting.
#include "common/cpu_usage.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/clock.h"
#include "common/group_stats.h"
#include "coordinator/live_merge.h"

using namespace llmload::coord;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr const char* kStat =
    "cpu  4705 356 584 3699 23 23 0 12 0 0\n"
    "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0\n"
    "intr 114930548 113199788 3 0 5 263 0 4 [... lots more numbers ...]\n"
    "ctxt 1990473\n";

TEST(ProcStat, AggregateLineSumsTheFirstEightFieldsAndTakesSteal) {
  auto p = parse_proc_stat(kStat);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->total, 4705u + 356 + 584 + 3699 + 23 + 23 + 0 + 12);  // guest not added twice
  EXPECT_EQ(p->steal, 12u);
}

TEST(ProcStat, OldKernelsWithoutStealAndOddSpacing) {
  auto p = parse_proc_stat("cpu\t1 2 3 4\r\ncpu0 1 2 3 4\n");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->total, 10u);
  EXPECT_EQ(p->steal, 0u);
  // The aggregate line need not be first.
  auto q = parse_proc_stat("intr 1 2\ncpu  10 0 0 80 0 0 0 10\n");
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->total, 100u);
  EXPECT_EQ(q->steal, 10u);
}

TEST(ProcStat, MalformedTextIsAnErrorNamingWhat) {
  auto none = parse_proc_stat("cpu0 1 2 3 4\nintr 5\n");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("no aggregate"), std::string::npos) << none.error();
  auto short_line = parse_proc_stat("cpu  1 2 3\n");
  ASSERT_FALSE(short_line.ok());
  EXPECT_NE(short_line.error().find("3 fields"), std::string::npos) << short_line.error();
  auto bad = parse_proc_stat("cpu  1 2 x3 4\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("field 3"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_proc_stat("cpu  1 2 3 4x 5\n").ok());
  EXPECT_FALSE(parse_proc_stat("").ok());
  EXPECT_FALSE(parse_proc_stat("cpu  99999999999999999999999 1 1 1\n").ok());  // overflow
}

TEST(ProcStat, StealShareIsTheDeltaRatioClamped) {
  ProcStatCpu a{1000, 10}, b{2000, 60};
  EXPECT_DOUBLE_EQ(steal_share(a, b), 0.05);
  EXPECT_DOUBLE_EQ(steal_share(a, a), 0.0);  // no time passed
  EXPECT_DOUBLE_EQ(steal_share(b, a), 0.0);  // counters went back (reboot of a VM image)
}

TEST(CpuMeter, BusyReflectsThisProcessSpinning) {
  ASSERT_TRUE(read_proc_stat().has_value());  // Linux CI: /proc is there
  CpuMeter m(1);
  const int64_t until = mono_now_ns() + 300'000'000;
  volatile uint64_t x = 0;
  while (mono_now_ns() < until) x = x + 1;
  const CpuShare s = m.take();
  // One thread spun for the whole interval: busy well above 0 even on a loaded machine.
  EXPECT_GT(s.busy, 0.2);
  EXPECT_LE(s.busy, 1.0);
  EXPECT_GE(s.steal, 0.0);
  EXPECT_LE(s.steal, 1.0);
  EXPECT_GT(m.since_start().busy, 0.2);
}

TEST(CpuGauges, TravelOnTheWireAndAreRangeChecked) {
  IntervalSnapshot s;
  s.start_ns = 0;
  s.end_ns = 1'000;
  s.cpu_busy = 0.25;
  s.steal = 0.125;
  auto back = IntervalSnapshot::from_wire(s.to_wire());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->cpu_busy, 0.25);
  EXPECT_EQ(back->steal, 0.125);
  auto j = s.to_wire();
  j.erase("cpu_busy");
  j.erase("steal");
  auto old = IntervalSnapshot::from_wire(j);  // absent: 0
  ASSERT_TRUE(old.ok()) << old.error();
  EXPECT_EQ(old->cpu_busy, 0.0);
  j["steal"] = 1.5;
  auto bad = IntervalSnapshot::from_wire(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("steal"), std::string::npos) << bad.error();
}

TEST(CpuGauges, CoordinatorWeighsIntervalsByLength) {
  LiveMerge lm(2);
  IntervalSnapshot a;
  a.start_ns = 0;
  a.end_ns = 1'000;
  a.cpu_busy = 0.5;
  a.steal = 0.1;
  IntervalSnapshot b = a;
  b.start_ns = 1'000;
  b.end_ns = 4'000;  // three times as long
  b.cpu_busy = 0.1;
  b.steal = 0.0;
  ASSERT_TRUE(lm.add(0, 1, a, 0));
  ASSERT_TRUE(lm.add(0, 2, b, 0));
  EXPECT_NEAR(lm.worker_cpu_busy(0), (0.5 + 3 * 0.1) / 4, 1e-12);
  EXPECT_NEAR(lm.worker_steal(0), 0.1 / 4, 1e-12);
  EXPECT_EQ(lm.worker_cpu_busy(1), 0.0);  // nothing reported
}

}  // namespace
}  // namespace llmload
