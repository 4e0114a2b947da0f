#include "common/cpu_usage.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "common/clock.h"

namespace llmload {

Expected<ProcStatCpu> parse_proc_stat(std::string_view text) {
  // Find the aggregate line: "cpu" followed by a blank (per-CPU lines are "cpu0", ...).
  std::size_t pos = 0;
  std::string_view line;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    if (l.size() > 3 && l.substr(0, 3) == "cpu" && (l[3] == ' ' || l[3] == '\t')) {
      line = l;
      break;
    }
    pos = end + 1;
  }
  if (line.empty()) return Error{"/proc/stat: no aggregate \"cpu \" line"};
  uint64_t v[10] = {0};
  int n = 0;
  std::size_t i = 3;
  while (n < 10) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    const char* b = line.data() + i;
    const char* e = line.data() + line.size();
    auto [ptr, ec] = std::from_chars(b, e, v[n]);
    if (ec != std::errc() || (ptr != e && *ptr != ' ' && *ptr != '\t' && *ptr != '\r')) {
      return Error{"/proc/stat: the \"cpu\" line's field " + std::to_string(n + 1) +
                   " is not a number"};
    }
    i += std::size_t(ptr - b);
    ++n;
  }
  if (n < 4) {
    return Error{"/proc/stat: the \"cpu\" line has " + std::to_string(n) +
                 " fields, at least 4 (user nice system idle) expected"};
  }
  ProcStatCpu out;
  // user nice system idle iowait irq softirq steal [guest guest_nice: inside user/nice]
  for (int k = 0; k < std::min(n, 8); ++k) out.total += v[k];
  out.steal = n >= 8 ? v[7] : 0;
  return out;
}

std::optional<ProcStatCpu> read_proc_stat() {
  std::ifstream in("/proc/stat");
  if (!in) return std::nullopt;
  std::string first;
  if (!std::getline(in, first)) return std::nullopt;  // the aggregate line comes first
  auto p = parse_proc_stat(first);
  if (!p) return std::nullopt;
  return p.value();
}

double steal_share(const ProcStatCpu& before, const ProcStatCpu& after) {
  if (after.total <= before.total || after.steal < before.steal) return 0.0;
  const double share = double(after.steal - before.steal) / double(after.total - before.total);
  return std::clamp(share, 0.0, 1.0);
}

int64_t process_cpu_ns() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto ns = [](const timeval& t) { return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_usec * 1000; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

int64_t process_peak_rss_bytes() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return int64_t(ru.ru_maxrss) * 1024;  // Linux reports kibibytes
}

int64_t process_rss_bytes() {
  // statm: "size resident shared text lib data dt", in pages.
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * int64_t(sysconf(_SC_PAGESIZE));
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

CpuMeter::CpuMeter(int loops) : slots_(std::max(1, std::min(loops, usable_cpus()))) {
  first_ = read();
  last_ = first_;
}

CpuMeter::Reading CpuMeter::read() {
  return Reading{mono_now_ns(), process_cpu_ns(), read_proc_stat()};
}

CpuShare CpuMeter::between(const Reading& a, const Reading& b) const {
  CpuShare s;
  const int64_t wall = b.wall_ns - a.wall_ns;
  if (wall > 0) {
    s.busy = std::clamp(double(b.cpu_ns - a.cpu_ns) / (double(wall) * slots_), 0.0, 1.0);
  }
  if (a.stat && b.stat) s.steal = steal_share(*a.stat, *b.stat);
  return s;
}

CpuShare CpuMeter::take() {
  Reading now = read();
  CpuShare s = between(last_, now);
  last_ = now;
  return s;
}

CpuShare CpuMeter::since_start() const {
  return between(first_, read());
}

}  // namespace llmload
