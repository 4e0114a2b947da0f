// The terminal summary's server-reported block (docs/metrics.md "Server-reported metrics").
#include <cstdio>

#include "analysis/report/summary_table.h"
#include "common/number_format.h"

namespace llmload::analysis {

std::string summary_server_lines(const RunResult& r) {
  std::string s;
  auto v = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, x < 1e4 ? "%.4g" : x < 1e8 ? "%.0f" : "%.2e", x);
    return std::string(buf);
  };
  for (const MetricSummary& m : summarize_all(r.total)) {
    if (!m.name.starts_with("server.")) continue;
    if (s.empty()) {
      char head[128];
      std::snprintf(head, sizeof head, "%-22s %-8s %8s %8s %8s %8s %8s\n", "server reported",
                    "unit", "p50", "p90", "p99", "max", "count");
      s = head;
    }
    char line[160];
    std::snprintf(line, sizeof line, "%-22.22s %-8.8s %8s %8s %8s %8s %8lld\n",
                  m.name.substr(7).c_str(), std::string(m.unit).c_str(), v(m.p50).c_str(),
                  v(m.p90).c_str(), v(m.p99).c_str(), v(m.max).c_str(),
                  static_cast<long long>(m.count));
    s += line;
  }
  const Counters& c = r.total.counters;
  if (auto hit = c.prefix_cache_hit_rate()) {
    s += format_number("prefix cache: %.1f%% of prompt tokens cached", 100.0 * *hit) + " (" +
         std::to_string(c.cached_tokens) + " of " + std::to_string(c.cache_prompt_tokens) + ")\n";
  }
  if (c.tokens_mismatch > 0) {
    s += "tokens mismatch: " + std::to_string(c.tokens_mismatch) +
         " requests where the server's output count differs from ours";
    if (!r.total.mismatch_samples().empty()) s += " (" + r.total.mismatch_samples()[0] + ")";
    s += "\n";
  }
  return s;
}

}  // namespace llmload::analysis
