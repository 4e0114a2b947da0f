#include "worker/wait_ready.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "common/number_format.h"

namespace llmload::worker {
namespace {

constexpr int64_t kAttemptNs = 1'000'000'000;  // one probe at most every second
constexpr int64_t kProbeTimeoutNs = 2'000'000'000;

}  // namespace

std::string not_ready_reason(const PreflightCheck& check) {
  if (!check.ok) {
    if (check.error == ErrorKind::kHttp4xx) return "";  // an answer: pre-flight says what
    const std::string prefix = "pre-flight failed for target " + check.target + ": ";
    std::string why = check.message;
    if (why.starts_with(prefix)) why.erase(0, prefix.size());
    return why;
  }
  if (check.status >= 500) return check.probe + " answered " + std::to_string(check.status);
  return "";
}

ReadyVerdict wait_until_ready(const std::vector<ReadyTarget>& targets,
                              const std::function<void(const std::string&)>& say) {
  const int64_t start = mono_now_ns();
  std::vector<std::size_t> waiting(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) waiting[i] = i;
  std::vector<std::string> last_reason(targets.size());
  ReadyVerdict v;
  while (!waiting.empty()) {
    const int64_t attempt_start = mono_now_ns();
    std::vector<PreflightTarget> probe;
    int64_t timeout = kProbeTimeoutNs;
    for (std::size_t i : waiting) {
      probe.push_back(targets[i].target);
      timeout = std::min(
          timeout, std::max<int64_t>(start + targets[i].wait_ns - attempt_start, 100'000'000));
    }
    const std::vector<PreflightCheck> checks = run_preflight(probe, timeout);
    const int64_t now = mono_now_ns();
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < waiting.size(); ++k) {
      const std::size_t i = waiting[k];
      std::string why = not_ready_reason(checks[k]);
      if (why.empty()) continue;
      const std::string what = checks[k].target + " (" + checks[k].probe + ")";
      const double limit_s = double(targets[i].wait_ns) / 1e9;
      if (now - start >= targets[i].wait_ns) {
        v.ok = false;
        if (!v.error.empty()) v.error += "\n";
        v.error += "target " + checks[k].target + " not ready within --wait-ready " +
                   format_number("%.1f s", limit_s) + ": " + what + ": " + why;
        continue;
      }
      say("waiting for " + what + ": " + why +
          format_number(" (%.1f s", double(now - start) / 1e9) +
          format_number(" of %.1f s)", limit_s));
      still.push_back(i);
    }
    waiting = std::move(still);
    if (waiting.empty()) break;
    const int64_t next = attempt_start + kAttemptNs;
    if (next > mono_now_ns())
      std::this_thread::sleep_for(std::chrono::nanoseconds(next - mono_now_ns()));
  }
  return v;
}

ReadyVerdict wait_until_ready(const Scenario& scenario,
                              const std::function<void(const std::string&)>& say) {
  std::vector<ReadyTarget> targets;
  for (const Target& t : scenario.targets) {
    if (t.wait_ready_ns > 0 && !t.is_mock())
      targets.push_back(ReadyTarget{preflight_target(t), t.wait_ready_ns});
  }
  return wait_until_ready(targets, say);
}

}  // namespace llmload::worker
