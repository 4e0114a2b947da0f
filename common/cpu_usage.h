// CPU accounting for the load generator's own health (summary.json run.client): how busy the
// worker process was, and how much CPU the hypervisor stole from the host, over an interval.
//
//   CpuMeter m(loops);          // reads the process's CPU time and /proc/stat now
//   ...
//   CpuShare s = m.take();      // busy and steal since the previous take() (or construction)
//
// busy:  the process's CPU time (user + system, getrusage) over wall time × min(loops, usable
//        CPUs): 1.0 means every event loop had a core to itself and used all of it.
// steal: /proc/stat's aggregate `cpu` line, Δsteal / Δ(user+nice+system+idle+iowait+irq+
//        softirq+steal): the share of the host's CPU time the hypervisor gave to others.
// Both are clamped to [0, 1]; 0 where the source cannot be read (not Linux, /proc hidden).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/expected.h"

namespace llmload {

// The aggregate `cpu` line of /proc/stat, in clock ticks.
struct ProcStatCpu {
  uint64_t total = 0;  // user + nice + system + idle + iowait + irq + softirq + steal
  uint64_t steal = 0;
  bool operator==(const ProcStatCpu&) const = default;
};

// Parses /proc/stat text (the first line starting "cpu "). Kernels older than 2.6.11 have no
// steal field (steal 0); guest time is already inside user and is not added twice. Errors name
// what is missing or malformed.
Expected<ProcStatCpu> parse_proc_stat(std::string_view text);
// Reads and parses /proc/stat; nullopt when it cannot.
std::optional<ProcStatCpu> read_proc_stat();

// The steal share between two readings, [0, 1] (0 when no time passed).
double steal_share(const ProcStatCpu& before, const ProcStatCpu& after);

// This process's CPU time so far (user + system of every thread), ns.
int64_t process_cpu_ns();
// CPUs this process may run on (sched_getaffinity), at least 1.
int usable_cpus();
// This process's peak resident set so far (getrusage ru_maxrss), bytes; 0 when unknown.
int64_t process_peak_rss_bytes();
// This process's resident set now (/proc/self/statm), bytes; 0 when it cannot be read.
int64_t process_rss_bytes();

struct CpuShare {
  double busy = 0;   // [0, 1]
  double steal = 0;  // [0, 1]
};

class CpuMeter {
 public:
  explicit CpuMeter(int loops = 1);
  // Busy and steal since the previous take() (or construction); restarts the measure.
  CpuShare take();
  // The same over everything since construction (does not restart anything).
  CpuShare since_start() const;

 private:
  struct Reading {
    int64_t wall_ns = 0;
    int64_t cpu_ns = 0;
    std::optional<ProcStatCpu> stat;
  };
  static Reading read();
  CpuShare between(const Reading& a, const Reading& b) const;

  int slots_ = 1;  // min(loops, usable CPUs)
  Reading first_;
  Reading last_;
};

}  // namespace llmload
