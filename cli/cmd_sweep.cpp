// llmload sweep SCENARIO --concurrency 1,8,64 | --rate 1,5,20 | --search: capacity planning.
// Each step is one run with its own warmup, duration and results directory: embedded (local
// workers over inproc://), or with --bind on remote `llmload worker`s, the coordinator bound once
// for the whole sweep (cli/coordinator_setup.h, the code path of `llmload coordinator`).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "analysis/gates/junit.h"
#include "analysis/gates/sweep.h"
#include "analysis/report/html_report.h"
#include "cli/commands.h"
#include "cli/coordinator_setup.h"
#include "cli/embedded_run.h"
#include "cli/run_options.h"
#include "common/atomic_file.h"
#include "common/exit_codes.h"
#include "common/prompts.h"
#include "common/shared_file.h"
#include "mock/mock_server.h"

namespace llmload::cli {
namespace {

struct SweepArgs {
  RunFlags run;
  CoordinatorFlags coord;         // --bind: remote workers (run.workers of them)
  bool local_only_flags = false;  // --threads or --timestamps given
  std::string concurrency, rate;  // comma-separated lists
  bool search = false;
  std::string search_mode;  // concurrency | rate (default: the scenario's sweep, else concurrency)
  std::optional<double> min, max, factor, precision;
};

Expected<std::vector<double>> parse_list(const std::string& text, const char* flag) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end || !(v > 0))
      return Error{std::string(flag) + ": '" + item + "' is not a positive number (e.g. 1,8,64)"};
    out.push_back(v);
  }
  if (out.empty()) return Error{std::string(flag) + ": no levels given"};
  return out;
}

int run_sweep_cmd(SweepArgs& a) {
  const bool remote = !a.coord.bind.empty();
  if (!remote &&
      (!a.coord.curve_key.empty() || !a.coord.allow_keys.empty() || a.coord.allow_insecure)) {
    std::fprintf(stderr,
                 "llmload sweep: --curve-key, --allow-keys and --allow-insecure are for remote "
                 "workers: give --bind too\n");
    return kExitUsage;
  }
  if (remote && a.local_only_flags) {
    std::fprintf(stderr,
                 "llmload sweep: --threads and --timestamps are for local workers; with --bind "
                 "each `llmload worker` takes its own\n");
    return kExitUsage;
  }
  coord::CoordinatorOptions co;
  if (remote) {
    if (auto c = apply_coordinator_flags(a.coord, co); !c) {
      std::fprintf(stderr, "llmload sweep: %s\n", c.error().c_str());
      return kExitUsage;
    }
  }
  auto prepared = prepare_run(a.run);
  if (!prepared) {
    std::fprintf(stderr, "%s\n", prepared.error().c_str());
    return kExitUsage;
  }
  PreparedRun& base = prepared.value();
  const Sweep& sw = base.scenario.sweep;
  analysis::SweepPlan plan;
  if (!a.concurrency.empty() || !a.rate.empty()) {
    if (!a.concurrency.empty() && !a.rate.empty()) {
      std::fprintf(stderr, "llmload sweep: give --concurrency or --rate, not both\n");
      return kExitUsage;
    }
    auto levels = a.concurrency.empty() ? parse_list(a.rate, "--rate")
                                        : parse_list(a.concurrency, "--concurrency");
    if (!levels) {
      std::fprintf(stderr, "llmload sweep: %s\n", levels.error().c_str());
      return kExitUsage;
    }
    plan.concurrency = !a.concurrency.empty();
    plan.levels = *levels;
  } else if (a.search || sw.kind == SweepKind::kSearch) {
    plan.search = true;
    plan.concurrency =
        sw.kind == SweepKind::kSearch ? sw.search_mode == LoadMode::kConcurrency : true;
    if (a.search_mode == "rate")
      plan.concurrency = false;
    else if (a.search_mode == "concurrency")
      plan.concurrency = true;
    else if (!a.search_mode.empty()) {
      std::fprintf(stderr, "llmload sweep: --search-mode: '%s' is not concurrency or rate\n",
                   a.search_mode.c_str());
      return kExitUsage;
    }
    plan.min = a.min.value_or(sw.search_min);
    plan.max = a.max.value_or(sw.search_max);
    plan.factor = a.factor.value_or(sw.search_factor);
    plan.precision = a.precision.value_or(sw.search_precision);
    if (!(plan.min > 0) || plan.max < plan.min || !(plan.factor > 1) || !(plan.precision > 0)) {
      std::fprintf(stderr,
                   "llmload sweep: search needs 0 < min <= max, factor > 1, precision > 0\n");
      return kExitUsage;
    }
  } else if (sw.kind == SweepKind::kConcurrency) {
    plan.levels.assign(sw.concurrency.begin(), sw.concurrency.end());
  } else if (sw.kind == SweepKind::kRate) {
    plan.concurrency = false;
    plan.levels = sw.rate;
  } else {
    std::fprintf(stderr,
                 "llmload sweep: no levels: give --concurrency 1,8,64, --rate 1,5,20 or --search, "
                 "or a `sweep:` section in %s\n",
                 a.run.scenario_path.c_str());
    return kExitUsage;
  }
  if (base.scenario.slo.asserts.empty())
    std::fprintf(stderr,
                 "llmload sweep: warning: no assertions (slo.assert or --assert): every "
                 "completed step passes\n");

  // One signal counter for the whole sweep: a signal during a step ends that step (its results
  // kept, aborted) and no further step starts; a second exits at once.
  static std::atomic<int> signals{0};
  install_signal_counter(&signals, true);
  std::unique_ptr<coord::Coordinator> coordinator;
  if (remote) {
    co.signals = &signals;
    co.keep_workers = true;  // the workers stay in their session from step to step
    co.on_bound = [&](const std::string& ep) {
      std::fprintf(stderr, "llmload sweep: listening on %s, waiting for %d worker(s)\n", ep.c_str(),
                   a.run.workers);
      std::fflush(stderr);
    };
    coordinator = std::make_unique<coord::Coordinator>(co);
    if (auto b = coordinator->bind(); !b) {
      std::fprintf(stderr, "llmload sweep: %s\n", b.error().c_str());
      if (base.mock) base.mock->stop();
      return kExitUsage;
    }
  }
  // Remote: the workers still attached after the last step (a worker lost in one step is not
  // waited for in the next).
  int workers_left = a.run.workers;

  std::string root = base.out_dir;
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  RunFlags step_flags = a.run;
  step_flags.junit.clear();
  step_flags.summary_md.clear();
  step_flags.prometheus_linger.clear();  // no pause between steps
  int n = 0;
  analysis::SweepOutcome o = analysis::run_sweep(
      plan,
      [&](double level) {
        ++n;
        PreparedRun p = base;
        Load& load = p.scenario.load;
        load.stages.clear();
        load.mode = plan.concurrency ? LoadMode::kConcurrency : LoadMode::kRate;
        if (plan.concurrency)
          load.concurrency = int64_t(level);
        else
          load.rate = level;
        char dir[64];
        std::snprintf(dir, sizeof dir, "step-%02d-%s%g", n, plan.concurrency ? "c" : "r", level);
        p.out_dir = root + "/" + dir;
        p.run_id = base.run_id + "-" + dir;
        analysis::SweepStep step;
        step.out_dir = p.out_dir;
        auto prompts = run_prompts(p.scenario);
        if (!prompts) {
          std::fprintf(stderr, "llmload sweep: %s\n", prompts.error().c_str());
          step.exit_code = kExitUsage;
          return step;
        }
        p.prompts = std::move(prompts.value());
        if (prompts_read_on_worker(p.scenario)) drop_prompt_text(p.prompts);
        step.workers_asked = a.run.workers;
        if (remote && workers_left < a.run.workers)
          std::printf(
              "=== sweep step %d: %s %g on %d of %d worker(s) asked for (the others were lost "
              "in earlier steps)\n",
              n, plan.concurrency ? "concurrency" : "rate", level, workers_left, a.run.workers);
        else
          std::printf("=== sweep step %d: %s %g\n", n, plan.concurrency ? "concurrency" : "rate",
                      level);
        std::fflush(stdout);
        coord::RunOutcome out;
        // Each step its own per-call log: in its directory, under the name given.
        RunFlags flags = step_flags;
        if (!a.run.requests_jsonl.empty())
          flags.requests_jsonl =
              p.out_dir + "/" + std::filesystem::path(a.run.requests_jsonl).filename().string();
        if (remote) {
          step.exit_code =
              run_on_coordinator(*coordinator, workers_left, flags, p, out, false, "llmload sweep");
          if (!out.result.run.workers.empty()) {
            int alive = 0;
            for (const WorkerInfo& w : out.result.run.workers)
              alive += w.status == WorkerStatus::kOk;
            workers_left = alive;
          }
        } else {
          step.exit_code = run_embedded_prepared(flags, p, out, false, &signals);
        }
        step.result = std::move(out.result);
        if (const auto lost = step.lost_workers(); !lost.empty()) {
          std::string ids;
          for (const std::string& id : lost) ids += (ids.empty() ? "" : ", ") + id;
          std::printf(
              "=== sweep step %d: partial: lost worker(s) %s%s\n", n, ids.c_str(),
              remote && workers_left > 0 ? "; the sweep goes on with the workers left" : "");
          std::fflush(stdout);
        }
        return step;
      },
      [&] {
        if (signals.load() > 0) return true;
        if (workers_left <= 0) {
          std::fprintf(stderr, "llmload sweep: every worker was lost: the sweep stops\n");
          return true;
        }
        return false;
      });
  coordinator.reset();
  if (base.mock) base.mock->stop();

  std::string table = analysis::sweep_table(o, plan.concurrency);
  std::printf("\n%s", table.c_str());
  auto w = write_file_atomic(root + "/sweep.csv", analysis::sweep_csv(o, plan.concurrency));
  if (!w) std::fprintf(stderr, "llmload sweep: %s\n", w.error().c_str());
  if (!a.run.no_report && !o.steps.empty()) {
    std::vector<analysis::ReportRun> runs;
    for (const analysis::SweepStep& s : o.steps)
      runs.push_back(analysis::ReportRun{analysis::sweep_level_text(s.level, plan.concurrency),
                                         s.result, s.result.intervals});
    std::string label = std::filesystem::path(root).lexically_normal().filename().string();
    analysis::SweepCurve curve = analysis::make_sweep_curve(
        o, plan.concurrency, base.scenario.slo.asserts, label.empty() ? root : label);
    auto r = write_file_atomic(
        root + "/report.html",
        analysis::html_report(
            runs,
            o.steps.empty() ? default_rating_tiers() : o.steps.front().result.run.rating_tiers,
            {curve}));
    if (!r) std::fprintf(stderr, "llmload sweep: %s\n", r.error().c_str());
  }
  std::printf("results: %s/ (sweep.csv, report.html, one directory per step)\n", root.c_str());
  if (!a.run.junit.empty()) {
    std::vector<analysis::JunitCase> cases;
    for (const analysis::SweepStep& s : o.steps)
      cases.push_back(
          {std::string(plan.concurrency ? "concurrency " : "rate ") + std::to_string(s.level),
           s.passed(), "exit " + std::to_string(s.exit_code)});
    if (auto j = analysis::write_junit(a.run.junit, "llmload.sweep", cases); !j)
      std::fprintf(stderr, "llmload sweep: %s\n", j.error().c_str());
  }
  if (o.stopped) {
    int code = kExitOk;
    for (const analysis::SweepStep& s : o.steps) code = combine_exit_codes(code, s.exit_code);
    return code;
  }
  // A partial step (a worker lost) may hide a passing level: the sweep says so by its exit code.
  int code = o.best ? kExitOk : kExitAssertion;
  for (const analysis::SweepStep& s : o.steps)
    if (s.exit_code == kExitIncomplete) code = combine_exit_codes(code, kExitIncomplete);
  return code;
}

}  // namespace

void register_sweep(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* sub = app.add_subcommand("sweep", "capacity planning: step or search the load");
  add_run_flags(sub, args->run, true, false);
  sub->add_option("--concurrency", args->concurrency, "concurrency levels, e.g. 1,8,64,256");
  sub->add_option("--rate", args->rate, "rate levels in requests/s, e.g. 1,5,20");
  sub->add_flag("--search", args->search,
                "search the load: grow until a level fails an SLO, then bisect");
  sub->add_option("--bind", args->coord.bind,
                  "run every step on remote `llmload worker`s: bind this ZeroMQ endpoint once "
                  "(as `llmload coordinator --bind`) and wait for --workers of them");
  add_coordinator_flags(sub, args->coord);
  sub->get_option("--workers")
      ->description("local workers, or with --bind the remote workers to wait for (default 1)");
  sub->add_option("--search-mode", args->search_mode, "concurrency (default) or rate");
  sub->add_option_function<double>(
      "--min", [a = args.get()](double v) { a->min = v; }, "search: first level");
  sub->add_option_function<double>(
      "--max", [a = args.get()](double v) { a->max = v; }, "search: highest level");
  sub->add_option_function<double>(
      "--factor", [a = args.get()](double v) { a->factor = v; },
      "search: growth factor (default 2)");
  sub->add_option_function<double>(
      "--precision", [a = args.get()](double v) { a->precision = v; },
      "search: stop bisecting when the bracket is this narrow, relative (default 0.1)");
  sub->callback([args, sub, &exit_code] {
    args->local_only_flags = sub->count("--threads") > 0 || sub->count("--timestamps") > 0;
    exit_code = run_sweep_cmd(*args);
  });
}

}  // namespace llmload::cli
