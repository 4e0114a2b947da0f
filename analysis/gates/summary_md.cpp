#include "analysis/gates/summary_md.h"

#include <cstdio>

#include "common/number_format.h"
#include "common/rating.h"

namespace llmload::analysis {
namespace {

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string group_title(const GroupStats& g) {
  if (g.labels.empty()) return "total";
  return group_key(g.labels);
}

void metric_rows(std::string& s, const std::string& group, const GroupStats& g) {
  for (Metric m : {Metric::kTtft, Metric::kItl, Metric::kTpot, Metric::kE2e}) {
    const HdrHistogram* h = g.histogram(m);
    if (!h || h->total_count() == 0) continue;
    MetricSummary ms = summarize(*h, m);
    s += "| " + md_escape(group) + " | " + std::string(name(m)) + " | " + std::to_string(ms.count) +
         " | " + format_number("%.2f", ms.p50) + " | " + format_number("%.2f", ms.p90) + " | " +
         format_number("%.2f", ms.p99) + " | " + format_number("%.2f", ms.max) + " |\n";
  }
}

}  // namespace

std::string summary_markdown(const RunResult& r, const std::vector<std::string>& details) {
  const Counters& c = r.total.counters;
  std::string s = "## llmload run `" + md_escape(r.run.id) +
                  "`: " + std::string(name(r.run.status)) + " (exit " +
                  std::to_string(r.run.exit_code) + ")\n\n";
  s += "| requests | ok | failed | client_cancelled | requests/s | output tokens/s | goodput/s "
       "| duration |\n";
  s += "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  s += "| " + std::to_string(c.requests) + " | " + std::to_string(c.ok) + " | " +
       std::to_string(c.failed) + " | " + std::to_string(c.client_cancelled) + " | " +
       format_number("%.2f", r.requests_per_s()) + " | " +
       format_number("%.1f", r.output_tokens_per_s()) + " | " +
       format_number("%.2f", r.goodput_per_s()) + " | " +
       format_number("%.1f s", r.run.duration_s) + " |\n\n";

  if (!r.assertions.empty()) {
    s += "### Assertions\n\n| | assertion | measured |\n|---|---|---|\n";
    for (size_t i = 0; i < r.assertions.size(); ++i) {
      const AssertionResult& a = r.assertions[i];
      std::string measured = i < details.size() ? details[i]
                             : a.value          ? format_number("%.6g", *a.value)
                                                : "not evaluable";
      s += std::string("| ") + (a.passed ? "✅ pass" : "❌ FAIL") + " | `" + md_escape(a.expr) +
           "` | " + md_escape(measured) + " |\n";
    }
    s += "\n";
  }

  if (!r.findings.empty()) {
    s += "### Findings\n\n| | rule | finding | advice |\n|---|---|---|---|\n";
    for (const Finding& f : r.findings)
      s += std::string("| ") + (f.severity == "warning" ? "⚠️ warning" : "ℹ️ info") + " | `" +
           f.rule + "` | " + md_escape(f.message) + " | " + md_escape(f.advice) + " |\n";
    s += "\n";
  }

  // Each group's tier (the run's rating_tiers: the scenario's `rating:` or the defaults).
  bool rated = false;
  for (const GroupResult& g : r.groups) rated = rated || rate_group(g.stats, r.run.rating_tiers);
  if (rated) {
    s += "### Rating\n\n| group | rating | ttft p50 (ms) | decode tokens/s p50 |\n";
    s += "|---|---|---:|---:|\n";
    for (const GroupResult& g : r.groups) {
      const HdrHistogram* ttft = g.stats.histogram(Metric::kTtft);
      const HdrHistogram* tps = g.stats.histogram(Metric::kDecodeTps);
      const auto rating = rate_group(g.stats, r.run.rating_tiers);
      s += "| " + md_escape(group_title(g.stats)) + " | " + rating.value_or("–") + " | " +
           (ttft && ttft->total_count() > 0
                ? format_number("%.1f", double(ttft->value_at_percentile(50)) / 1000.0)
                : std::string("–")) +
           " | " +
           (tps && tps->total_count() > 0
                ? format_number("%.1f", double(tps->value_at_percentile(50)))
                : std::string("–")) +
           " |\n";
    }
    s += "\n";
  }

  s += "### Latency (ms)\n\n| group | metric | count | p50 | p90 | p99 | max |\n";
  s += "|---|---|---:|---:|---:|---:|---:|\n";
  metric_rows(s, "total", r.total);
  if (r.groups.size() > 1)
    for (const GroupResult& g : r.groups) metric_rows(s, group_title(g.stats), g.stats);
  s += "\n";

  if (c.failed > 0) {
    s += "### Errors\n\n| kind | count | first message |\n|---|---:|---|\n";
    for (ErrorKind k : kAllErrorKinds) {
      int64_t n = c.errors[size_t(k)];
      if (n == 0) continue;
      const auto& samples = r.total.error_samples(k);
      s += "| " + std::string(name(k)) + " | " + std::to_string(n) + " | " +
           md_escape(samples.empty() ? "" : samples.front()) + " |\n";
    }
    s += "\n";
  }
  for (const std::string& w : r.run.warnings) s += "> ⚠️ " + md_escape(w) + "\n";
  return s;
}

}  // namespace llmload::analysis
