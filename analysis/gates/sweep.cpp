#include "analysis/gates/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "common/exit_codes.h"
#include "common/number_format.h"
#include "common/results_csv.h"

namespace llmload::analysis {
namespace {

bool stops(int code) {
  return code == kExitInternal || code == kExitUsage || code == kExitAborted;
}

std::optional<double> pct_ms(const RunResult& r, Metric m, double p) {
  const HdrHistogram* h = r.total.histogram(m);
  if (!h || h->total_count() == 0) return std::nullopt;
  return double(h->value_at_percentile(p)) / 1000.0;
}

std::vector<const SweepStep*> by_level(const SweepOutcome& o) {
  std::vector<const SweepStep*> v;
  for (const SweepStep& s : o.steps) v.push_back(&s);
  std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->level < b->level; });
  return v;
}

std::string opt(std::optional<double> v) {
  return v ? format_number("%.3f", *v) : "";
}

}  // namespace

std::vector<std::string> SweepStep::lost_workers() const {
  std::vector<std::string> ids;
  for (const WorkerInfo& w : result.run.workers)
    if (w.status == WorkerStatus::kLost) ids.push_back(w.id);
  return ids;
}

SweepOutcome run_sweep(const SweepPlan& plan, const std::function<SweepStep(double)>& step,
                       const std::function<bool()>& cancelled) {
  SweepOutcome o;
  auto run = [&](double level) -> const SweepStep& {
    o.steps.push_back(step(level));
    o.steps.back().level = level;
    if (stops(o.steps.back().exit_code)) o.stopped = true;
    return o.steps.back();
  };
  auto round = [&](double v) { return plan.concurrency ? std::max(1.0, std::round(v)) : v; };
  auto cancel = [&] {
    if (cancelled && cancelled()) o.stopped = true;
    return o.stopped;
  };
  if (!plan.search) {
    for (double level : plan.levels) {
      if (cancel()) break;
      run(round(level));
      if (o.stopped) break;
    }
  } else {
    std::optional<double> pass, fail;
    double level = round(plan.min);
    while (level <= plan.max && !cancel()) {
      const SweepStep& s = run(level);
      if (o.stopped) break;
      if (!s.passed()) {
        fail = level;
        break;
      }
      pass = level;
      double next = round(level * plan.factor);
      if (next <= level) next = level + 1;
      if (level < plan.max && next > plan.max) next = round(plan.max);
      if (next <= level) break;
      level = next;
    }
    while (!o.stopped && pass && fail && !cancel()) {
      double gap = *fail - *pass;
      if (gap <= *pass * plan.precision || (plan.concurrency && gap <= 1)) break;
      double mid = round((*pass + *fail) / 2);
      if (mid <= *pass || mid >= *fail) break;
      (run(mid).passed() ? pass : fail) = mid;
    }
  }
  choose_answer(o);
  return o;
}

void choose_answer(SweepOutcome& o) {
  o.best.reset();
  o.highest_passing.reset();
  o.passing_above_best.clear();
  // Is step a a better answer than step b? More goodput; then more throughput (tokens, then
  // requests); then the lower level (the same work for less load).
  auto better = [&](size_t a, size_t b) {
    const RunResult& x = o.steps[a].result;
    const RunResult& y = o.steps[b].result;
    if (x.goodput_per_s() != y.goodput_per_s()) return x.goodput_per_s() > y.goodput_per_s();
    if (x.output_tokens_per_s() != y.output_tokens_per_s())
      return x.output_tokens_per_s() > y.output_tokens_per_s();
    if (x.requests_per_s() != y.requests_per_s()) return x.requests_per_s() > y.requests_per_s();
    return o.steps[a].level < o.steps[b].level;
  };
  for (size_t i = 0; i < o.steps.size(); ++i) {
    if (!o.steps[i].passed()) continue;
    if (!o.best || better(i, *o.best)) o.best = i;
    if (!o.highest_passing || o.steps[i].level > o.steps[*o.highest_passing].level)
      o.highest_passing = i;
  }
  std::vector<SweepStep> sorted;
  for (const SweepStep* s : by_level(o)) {
    sorted.push_back(*s);
    const size_t i = size_t(s - o.steps.data());
    if (o.best && s->passed() && s->level > o.steps[*o.best].level)
      o.passing_above_best.push_back(i);
  }
  o.saturated_at = detect_saturation(sorted);
}

std::optional<double> detect_saturation(const std::vector<SweepStep>& steps) {
  // Compare each level with the first level at least 30% higher (bisection steps sit close).
  for (size_t i = 0; i < steps.size(); ++i) {
    const SweepStep& a = steps[i];
    size_t j = i + 1;
    while (j < steps.size() && steps[j].level < a.level * 1.3) ++j;
    if (j == steps.size()) break;
    const SweepStep& b = steps[j];
    double ta = a.result.requests_per_s(), tb = b.result.requests_per_s();
    auto la = pct_ms(a.result, Metric::kTtft, 50), lb = pct_ms(b.result, Metric::kTtft, 50);
    if (ta <= 0 || !la || !lb || *la <= 0) continue;
    if (tb < ta * 1.1 && *lb > *la * 1.2) return a.level;
  }
  return std::nullopt;
}

std::string sweep_csv(const SweepOutcome& o, bool concurrency) {
  std::vector<std::string> asserts;
  for (const SweepStep& s : o.steps)
    for (const AssertionResult& a : s.result.assertions)
      if (std::find(asserts.begin(), asserts.end(), a.expr) == asserts.end())
        asserts.push_back(a.expr);
  std::string csv = std::string(concurrency ? "concurrency" : "rate") +
                    ",requests_per_s,output_tokens_per_s,goodput_per_s,ttft_p50_ms,ttft_p99_ms,"
                    "tpot_p50_ms,tpot_p99_ms,e2e_p50_ms,e2e_p99_ms,error_rate,exit_code,passed";
  for (const std::string& a : asserts) csv += "," + csv_escape(a);
  csv += ",workers_asked,workers,workers_lost,role,results\n";
  for (const SweepStep* s : by_level(o)) {
    const RunResult& r = s->result;
    const Counters& c = r.total.counters;
    csv += format_general(s->level) + "," + format_number("%.3f", r.requests_per_s()) + "," +
           format_number("%.3f", r.output_tokens_per_s()) + "," +
           format_number("%.3f", r.goodput_per_s()) + ",";
    csv += opt(pct_ms(r, Metric::kTtft, 50)) + "," + opt(pct_ms(r, Metric::kTtft, 99)) + "," +
           opt(pct_ms(r, Metric::kTpot, 50)) + "," + opt(pct_ms(r, Metric::kTpot, 99)) + "," +
           opt(pct_ms(r, Metric::kE2e, 50)) + "," + opt(pct_ms(r, Metric::kE2e, 99)) + ",";
    csv += (c.requests ? opt(double(c.failed) / double(c.requests)) : std::string()) + "," +
           std::to_string(s->exit_code) + "," + (s->passed() ? "true" : "false");
    for (const std::string& a : asserts) {
      std::string cell;
      for (const AssertionResult& x : r.assertions)
        if (x.expr == a) cell = x.passed ? "pass" : "fail";
      csv += "," + cell;
    }
    std::string lost;
    for (const std::string& id : s->lost_workers()) lost += (lost.empty() ? "" : " ") + id;
    const size_t i = size_t(s - o.steps.data());
    std::string role;
    auto add_role = [&](const char* r) { role += (role.empty() ? "" : " ") + std::string(r); };
    if (o.best == i) add_role("capacity");
    if (o.highest_passing == i) add_role("highest_passing");
    if (o.saturated_at && *o.saturated_at == s->level) add_role("saturation");
    csv += "," + (s->workers_asked ? std::to_string(s->workers_asked) : std::string()) + "," +
           std::to_string(s->workers_ran()) + "," + csv_escape(lost) + "," + role + "," +
           csv_escape(s->out_dir) + "\n";
  }
  return csv;
}

Expected<SweepCsv> parse_sweep_csv(const std::string& text, const std::string& source) {
  auto records = csv_records(text, source);
  if (!records) return Error{records.error()};
  SweepCsv out;
  std::map<std::string, size_t> col;
  for (const CsvRecord& rec : *records) {
    const std::vector<std::string>& fields = rec.fields;
    const std::string where = source + ":" + std::to_string(rec.line_no) + ": ";
    if (rec.line_no == 1) {
      for (size_t i = 0; i < fields.size(); ++i) col[fields[i]] = i;
      if (fields.empty() || (fields[0] != "concurrency" && fields[0] != "rate"))
        return Error{where + "the first column is not concurrency or rate"};
      out.concurrency = fields[0] == "concurrency";
      for (const char* need : {"exit_code", "results"})
        if (!col.count(need)) return Error{where + "no column '" + need + "'"};
      continue;
    }
    auto cell = [&](const char* name) {
      size_t i = col[name];
      return i < fields.size() ? fields[i] : std::string();
    };
    SweepCsvRow row;
    char* end = nullptr;
    const std::string& level = fields[0];
    row.level = std::strtod(level.c_str(), &end);
    if (level.empty() || *end) return Error{where + "level '" + level + "' is not a number"};
    row.exit_code = std::atoi(cell("exit_code").c_str());
    if (col.count("workers_asked")) row.workers_asked = std::atoi(cell("workers_asked").c_str());
    row.results = cell("results");
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::vector<std::string> sweep_answer_lines(const SweepOutcome& o, bool concurrency) {
  std::vector<std::string> lines;
  const char* unit = concurrency ? "concurrency" : "rate";
  auto level = [&](const SweepStep& s) {
    return std::string(unit) + " " + format_general(s.level);
  };
  auto figures = [](const SweepStep& s) {
    return "goodput " + format_number("%.2f", s.result.goodput_per_s()) + " req/s, " +
           format_number("%.1f", s.result.output_tokens_per_s()) + " output tok/s, " +
           format_number("%.2f", s.result.requests_per_s()) + " req/s";
  };
  if (o.best) {
    const SweepStep& b = o.steps[*o.best];
    lines.push_back("answer: " + level(b) +
                    " is the capacity: the most goodput of the levels meeting every SLO (" +
                    figures(b) + ")");
    for (size_t i : o.passing_above_best) {
      const SweepStep& s = o.steps[i];
      lines.push_back("  " + level(s) + " also meets every SLO but gives less (" + figures(s) +
                      ")");
    }
    // An outcome filled by hand (a test, a reader) may name a best without the highest
    // passing level: never read an empty optional.
    if (o.highest_passing && *o.highest_passing < o.steps.size()) {
      const SweepStep& h = o.steps[*o.highest_passing];
      lines.push_back("highest passing level: " + level(h) +
                      (*o.highest_passing == *o.best ? " (the capacity)" : " (not the capacity)"));
    }
  } else {
    lines.push_back("answer: no level met every SLO");
  }
  if (o.saturated_at)
    lines.push_back("saturation (knee): throughput flat while TTFT climbs beyond " +
                    std::string(unit) + " " + format_general(*o.saturated_at));
  for (size_t n = 0; n < o.steps.size(); ++n) {
    const SweepStep& s = o.steps[n];
    const std::vector<std::string> lost = s.lost_workers();
    std::string ids;
    for (const std::string& id : lost) ids += (ids.empty() ? "" : ", ") + id;
    // The step's number in the order it ran: from its directory (step-NN-...) when it has one
    // (a sweep read back from sweep.csv is in level order), else its place in o.steps.
    int number = int(n + 1);
    const std::string dir = std::filesystem::path(s.out_dir).filename().string();
    if (dir.rfind("step-", 0) == 0 && std::atoi(dir.c_str() + 5) > 0)
      number = std::atoi(dir.c_str() + 5);
    const std::string step = "step " + std::to_string(number) + " (" + level(s) + ")";
    if (!lost.empty())
      lines.push_back(step + ": partial: lost worker" + (lost.size() > 1 ? "s " : " ") + ids);
    if (s.workers_asked > 0 && s.workers_ran() > 0 && s.workers_ran() < s.workers_asked)
      lines.push_back(step + ": ran on " + std::to_string(s.workers_ran()) + " of " +
                      std::to_string(s.workers_asked) + " worker(s) asked for");
  }
  return lines;
}

std::string sweep_table(const SweepOutcome& o, bool concurrency) {
  std::string t;
  char line[256];
  std::snprintf(line, sizeof line, "%-11s %9s %10s %9s %9s %9s %9s %7s  %s\n",
                concurrency ? "concurrency" : "rate", "req/s", "tok/s", "goodput", "ttft p50",
                "ttft p99", "e2e p99", "errors", "SLO");
  t += line;
  for (const SweepStep* s : by_level(o)) {
    const RunResult& r = s->result;
    const Counters& c = r.total.counters;
    auto ms = [](std::optional<double> v) { return v ? format_number("%.1f", *v) : "-"; };
    std::snprintf(
        line, sizeof line, "%-11g %9.2f %10.1f %9.2f %9s %9s %9s %6.1f%%  %s\n", s->level,
        r.requests_per_s(), r.output_tokens_per_s(), r.goodput_per_s(),
        ms(pct_ms(r, Metric::kTtft, 50)).c_str(), ms(pct_ms(r, Metric::kTtft, 99)).c_str(),
        ms(pct_ms(r, Metric::kE2e, 99)).c_str(),
        c.requests ? 100.0 * double(c.failed) / double(c.requests) : 0.0,
        s->passed() ? "pass" : ("FAIL (exit " + std::to_string(s->exit_code) + ")").c_str());
    t += line;
  }
  t += "\n";
  for (const std::string& l : sweep_answer_lines(o, concurrency)) t += l + "\n";
  return t;
}

}  // namespace llmload::analysis
