#include "cli/run_options.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "analysis/report/summary_table.h"
#include "cli/override_flags.h"
#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/prompts.h"
#include "common/shared_file.h"
#include "mock/mock_server.h"

namespace llmload::cli {

void add_run_flags(CLI::App* sub, RunFlags& f, bool embedded, bool load_levels) {
  sub->add_option("scenario", f.scenario_path, "scenario file (YAML)")->required();
  add_override_flags(sub, f.overrides, load_levels);
  sub->add_option("--out", f.out_dir, "results directory (default results/<run-id>/)");
  sub->add_option("--junit", f.junit, "write a JUnit XML file of the assertions");
  sub->add_option("--summary-md", f.summary_md, "write a Markdown summary");
  sub->add_option("--prometheus", f.prometheus, "serve live /metrics on ADDR");
  sub->add_option("--prometheus-linger", f.prometheus_linger,
                  "keep /metrics up DURATION after the run (e.g. 30s, at most 1h)");
  sub->add_flag("--requests-csv", f.requests_csv, "write requests.csv (one row per request)");
  sub->add_option("--requests-jsonl", f.requests_jsonl,
                  "write a per-call log to FILE: one JSON object per request, during the run");
  sub->add_flag("--quiet", f.quiet, "no progress output");
  sub->add_flag("--json", f.json, "one JSON object per interval on stdout");
  sub->add_flag("--no-report", f.no_report, "skip report.html");
  if (embedded) {
    sub->add_option("--workers", f.workers, "local workers (default 1)")->check(CLI::Range(1, 256));
    sub->add_option("--threads", f.threads, "event loops per worker (default: cores)")
        ->check(CLI::Range(0, 4096));
    add_timestamps_flag(sub, f.timestamps);
  }
}

void add_timestamps_flag(CLI::App* sub, std::string& timestamps) {
  sub->add_option("--timestamps", timestamps,
                  "stamp reads with the kernel's receive time, or a clock reading (default kernel)")
      ->check(CLI::IsMember({"kernel", "clock"}));
}

namespace {

std::string make_run_id() {
  const int64_t wall = wall_now_ns();
  time_t secs = static_cast<time_t>(wall / 1'000'000'000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "-%04x", rd() & 0xffff);
  return std::string(buf) + suffix;
}

std::string own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    std::string arg = all.substr(start, end - start);
    if (!out.empty()) out += ' ';
    if (arg.find_first_of(" \t'\"$") != std::string::npos) {
      out += "'" + arg + "'";
    } else {
      out += arg;
    }
    start = end + 1;
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += (s.empty() ? "" : "\n") + l;
  return s;
}

std::atomic<int>* g_signal_count = nullptr;
bool g_second_exits = true;

void on_signal(int) {
  if (!g_signal_count) return;
  int n = ++(*g_signal_count);
  if (n >= 2 && g_second_exits) {
    static const char msg[] = "\nllmload: second signal: exiting at once\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(kExitAborted);
  }
}

}  // namespace

Expected<PreparedRun> prepare_run(const RunFlags& f) {
  PreparedRun p;
  auto loaded = load_scenario(f.scenario_path);
  if (!loaded) return Error{loaded.error()};
  p.scenario = std::move(loaded.value());
  if (auto problems = apply_overrides(p.scenario, f.overrides); !problems.empty()) {
    return Error{join_lines(problems)};
  }
  if (auto problems = resolve_secrets(p.scenario, true); !problems.empty()) {
    return Error{join_lines(problems)};
  }
  bool wants_mock = false;
  for (const auto& t : p.scenario.targets) wants_mock = wants_mock || t.is_mock();
  if (wants_mock) {
    mock::MockOptions mo;
    mo.host = "127.0.0.1";
    mo.port = 0;
    // List the scenario's models, so the pre-flight finds them (any name is accepted anyway).
    for (const auto& t : p.scenario.targets) {
      if (!t.is_mock()) continue;
      for (const auto& m : t.models) mo.more_models.push_back(m.name);
    }
    auto server = std::make_shared<mock::MockServer>(mo);
    auto started = server->start();
    if (!started) return Error{"cannot start the built-in mock: " + started.error()};
    for (auto& t : p.scenario.targets) {
      if (!t.is_mock()) continue;
      t.url = server->base_url();
      if (t.metrics_url == "mock") t.metrics_url = t.url + "/metrics";
    }
    p.mock = std::move(server);
  }
  if (p.scenario.load.trace) {
    // Checked here so a bad trace is one clear error before any worker starts (each worker
    // reads the same file again: DESIGN.md "Prompts on the worker").
    if (auto trace = load_trace(*p.scenario.load.trace); !trace)
      return Error{"load.trace: " + trace.error()};
  }
  // The whole dataset when the workers read it (checked here, once, with errors naming the
  // line); else the sampled list RUN ships.
  auto prompts = run_prompts(p.scenario);
  if (!prompts) return Error{prompts.error()};
  if (auto problems = check_group_by(p.scenario, *prompts); !problems.empty()) {
    return Error{join_lines(problems)};
  }
  p.prompts = std::move(prompts.value());
  // The workers read the dataset themselves: what the coordinator needs is checked by now.
  if (prompts_read_on_worker(p.scenario)) drop_prompt_text(p.prompts);
  p.run_id = make_run_id();
  p.out_dir = f.out_dir.empty() ? "results/" + p.run_id : f.out_dir;
  p.command = own_command_line();
  return p;
}

void install_signal_counter(std::atomic<int>* count, bool second_exits) {
  g_signal_count = count;
  g_second_exits = second_exits;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void print_run_summary(const RunResult& r, const std::string& out_dir, std::FILE* out) {
  const Counters& c = r.total.counters;
  std::fprintf(out, "\nrun %s: %s (exit %lld), %.1f s measured, %zu worker(s)\n", r.run.id.c_str(),
               std::string(name(r.run.status)).c_str(), static_cast<long long>(r.run.exit_code),
               r.run.duration_s, r.run.workers.size());
  const double err_pct = c.requests ? 100.0 * double(c.failed) / double(c.requests) : 0.0;
  std::fprintf(out, "requests %lld  ok %lld  failed %lld (%.1f%%)",
               static_cast<long long>(c.requests), static_cast<long long>(c.ok),
               static_cast<long long>(c.failed), err_pct);
  if (c.client_cancelled > 0)
    std::fprintf(out, "  client_cancelled %lld", static_cast<long long>(c.client_cancelled));
  std::fprintf(out, "  retries %lld\n", static_cast<long long>(c.retries));
  std::fprintf(out, "throughput %.2f req/s  %.1f output tok/s  goodput %.2f req/s\n",
               r.requests_per_s(), r.output_tokens_per_s(), r.goodput_per_s());
  auto sums = summarize_all(r.total);
  if (!sums.empty()) {
    // 76 columns: 4 significant digits below 10^4, whole numbers above.
    auto v = [](double x) {
      char buf[32];
      std::snprintf(buf, sizeof buf, x < 1e4 ? "%.4g" : x < 1e8 ? "%.0f" : "%.2e", x);
      return std::string(buf);
    };
    std::fprintf(out, "%-13s %-8s %8s %8s %8s %8s %8s %8s\n", "metric", "unit", "p50", "p90", "p99",
                 "p99.9", "max", "count");
    for (const auto& m : sums) {
      if (m.name.starts_with("server.")) continue;  // their own block, full names
      std::fprintf(out, "%-13.13s %-8.8s %8s %8s %8s %8s %8s %8lld\n", m.name.c_str(),
                   std::string(m.unit).c_str(), v(m.p50).c_str(), v(m.p90).c_str(),
                   v(m.p99).c_str(), v(m.p999).c_str(), v(m.max).c_str(),
                   static_cast<long long>(m.count));
    }
  }
  // Per group, with the rating; colour only on a terminal (and never with NO_COLOR set).
  const bool colour = ::isatty(::fileno(out)) && !std::getenv("NO_COLOR");
  std::string groups = analysis::summary_group_table(r, r.run.rating_tiers, colour);
  if (!groups.empty()) std::fprintf(out, "%s", groups.c_str());
  std::fprintf(out, "%s", analysis::summary_server_lines(r).c_str());
  std::fprintf(out, "%s", analysis::summary_client_lines(r).c_str());
  std::string errors;
  for (ErrorKind k : kAllErrorKinds) {
    int64_t n = c.errors[static_cast<std::size_t>(k)];
    if (n > 0) errors += "  " + std::string(name(k)) + " " + std::to_string(n);
  }
  if (!errors.empty()) std::fprintf(out, "errors:%s\n", errors.c_str());
  for (const auto& w : r.run.workers) {
    if (w.status == WorkerStatus::kLost) {
      std::fprintf(out, "worker %s LOST (its data up to its last report is kept)\n", w.id.c_str());
    }
  }
  std::fprintf(out, "%s", analysis::summary_finding_lines(r).c_str());
  for (const auto& a : r.assertions) {
    std::fprintf(out, "assert %-50.50s %s\n", a.expr.c_str(), a.passed ? "passed" : "FAILED");
  }
  if (!out_dir.empty()) std::fprintf(out, "results: %s/\n", out_dir.c_str());
}

}  // namespace llmload::cli
