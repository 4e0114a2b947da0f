#include "analysis/report/summary_table.h"

#include <algorithm>
#include <cstdio>

#include "common/number_format.h"

namespace llmload::analysis {
namespace {

constexpr int kGroupWidth = 18;

std::string pct(const GroupStats& g, Metric m, double p) {
  const HdrHistogram* h = g.histogram(m);
  if (!h || h->total_count() == 0) return "-";
  double v = double(h->value_at_percentile(p));
  return format_number("%.1f", is_time(m) ? v / 1000.0 : v);
}

// Cut to `width` characters, marking the cut with '~' (plain ASCII: widths stay exact).
std::string fit(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 1) + "~";
}

const char* rating_colour(const std::string& rating) {
  if (rating == "excellent") return "\x1b[1;32m";
  if (rating == "good") return "\x1b[32m";
  if (rating == "fair") return "\x1b[33m";
  if (rating == "poor") return "\x1b[31m";
  return "";
}

std::string row(const std::string& label, const GroupStats& g, double secs,
                std::optional<double> cost, const std::vector<RatingTier>& tiers, bool colour) {
  const Counters& c = g.counters;
  std::string rps = secs > 0 ? format_number("%.2f", double(c.requests) / secs) : "-";
  std::string err =
      c.requests ? format_number("%.1f", 100.0 * double(c.failed) / double(c.requests)) : "-";
  std::string cost_s = cost ? format_number("$%.4f", *cost) : "-";
  if (cost_s.size() > 9) cost_s = format_number("$%.0f", *cost);
  std::string rating = rate_group(g, tiers).value_or("-");
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-*s%8.8s%6.6s%9.9s%9.9s%8.8s%10.10s ", kGroupWidth,
                fit(label, kGroupWidth).c_str(), rps.c_str(), err.c_str(),
                pct(g, Metric::kTtft, 50).c_str(), pct(g, Metric::kTtft, 99).c_str(),
                pct(g, Metric::kDecodeTps, 50).c_str(), cost_s.c_str());
  std::string line = buf;
  std::string shown = fit(rating, 9);
  const char* on = colour ? rating_colour(rating) : "";
  line += *on ? std::string(on) + shown + "\x1b[0m" : shown;
  line += std::string(9 - shown.size(), ' ');
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

}  // namespace

// `lead` then `text` broken at spaces into lines of at most `width` columns (a word longer
// than a line stands alone), the lines after the first indented by `indent` spaces.
static std::string wrap_words(const std::string& lead, const std::string& text, size_t width,
                              size_t indent) {
  std::string out, line = lead;
  bool fresh = true;  // nothing but the lead or the indent on `line` yet
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find(' ', pos), text.size());
    const std::string word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (!fresh && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = std::string(indent, ' ');
      fresh = true;
    }
    if (!fresh) line += ' ';
    line += word;
    fresh = false;
  }
  return out + line + "\n";
}

std::string summary_finding_lines(const RunResult& r) {
  std::string s;
  for (const Finding& f : r.findings) {
    s += wrap_words("finding " + f.severity + " " + f.rule + ": ", f.message, 80, 4);
    s += wrap_words("  advice: ", f.advice, 80, 4);
  }
  return s;
}

std::string summary_client_lines(const RunResult& r) {
  const ClientHealth& h = r.run.client;
  const ClientTiming& t = h.timing;
  std::string s = "client: timestamps " + std::string(t.timestamps());
  s += t.token_reads > 0 ? format_number(" (%.1f%% of token reads kernel-stamped)\n",
                                         100.0 * t.kernel_share())
                         : " (no token read)\n";
  s += format_number("client: %.2f%% of ttft/itl values uncertain", 100.0 * t.uncertain_share());
  if (t.timing_uncertain > 0) s += format_number(" (window p99 %.2f ms)", h.uncertain_window_ms_p99());
  s += "\n";
  s += format_number("client: loop lag p99 %.2f ms", h.loop_lag_ms_p99) +
       format_number(", cpu busy %.0f%%", 100.0 * h.cpu_busy) +
       (h.saturated ? ", SATURATED" : ", not saturated") + "\n";
  const Counters& c = r.total.counters;
  if (h.peak_rss_bytes > 0) {
    s += format_number("client: peak RSS %.1f MiB", double(h.peak_rss_bytes) / (1024.0 * 1024.0));
    if (r.run.workers.size() > 1) s += " (largest worker)";
    if (c.output_tokens > 0)
      s += format_number(", %.2f token reads per output token",
                         double(t.token_reads) / double(c.output_tokens));
    s += "\n";
  }
  const nlohmann::json& sc = r.run.scenario;
  const bool rate_mode = sc.is_object() && sc.contains("load") && sc["load"].is_object() &&
                         sc["load"].value("mode", "") == "rate";
  if (rate_mode || c.dropped > 0) {
    const int64_t arrivals = c.requests + c.dropped;
    s += "dropped " + std::to_string(c.dropped) +
         (arrivals > 0 ? format_number(" (%.2f%% of arrivals)", 100.0 * double(c.dropped) /
                                                                  double(arrivals))
                       : "") +
         "\n";
  }
  return s;
}

std::string group_display_name(const GroupStats& g) {
  if (g.labels.empty()) return "total";
  std::string s;
  auto model = g.labels.find("model");
  if (model != g.labels.end()) s = model->second;
  for (const auto& [k, v] : g.labels) {
    if (k == "model" || (k == "target" && g.labels.size() > 1)) continue;
    s += (s.empty() ? "" : " ") + v;
  }
  return s.empty() ? group_key(g.labels) : s;
}

std::string summary_group_table(const RunResult& r, const std::vector<RatingTier>& tiers,
                                bool colour) {
  if (r.groups.empty()) return "";
  char head[160];
  std::snprintf(head, sizeof head, "%-*s%8s%6s%9s%9s%8s%10s %s\n", kGroupWidth, "group", "req/s",
                "err%", "ttft p50", "ttft p99", "tok/s", "cost", "rating");
  std::string s = head;
  for (const GroupResult& g : r.groups)
    s += row(group_display_name(g.stats), g.stats, r.run.duration_s, g.cost_usd, tiers, colour);
  if (r.groups.size() > 1) s += row("total", r.total, r.run.duration_s, r.cost_usd, tiers, colour);
  // Neither ok nor failed, so in no err%: said on its own line when the scenario cancelled any.
  if (const int64_t n = r.total.counters.client_cancelled; n > 0)
    s += "client_cancelled " + std::to_string(n) + " of " +
         std::to_string(r.total.counters.requests) +
         " requests (closed by the client on purpose: neither ok nor failed)\n";
  return s;
}

}  // namespace llmload::analysis
