// llmload report RESULT... --out report.html: the self-contained HTML report. A RESULT that is
// a sweep's directory (sweep.csv) adds its throughput-versus-latency curve and its steps.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "analysis/report/html_report.h"
#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/exit_codes.h"

namespace llmload::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> inputs;
  std::string out = "report.html";
  std::string tiers;
};

int run_report(const ReportArgs& a) {
  std::vector<RatingTier> tiers = default_rating_tiers();
  if (!a.tiers.empty()) {
    auto t = parse_rating_tiers(a.tiers);
    if (!t) {
      std::fprintf(stderr, "llmload report: %s\n", t.error().c_str());
      return kExitUsage;
    }
    tiers = *t;
  }
  std::vector<analysis::ReportRun> runs;
  std::vector<analysis::SweepCurve> sweeps;
  for (const std::string& in : a.inputs) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(in) / "sweep.csv", ec)) {
      auto sw = analysis::load_report_sweep(in);  // a sweep: its curve, and its steps as runs
      if (!sw) {
        std::fprintf(stderr, "llmload report: %s\n", sw.error().c_str());
        return kExitUsage;
      }
      sweeps.push_back(std::move(sw->curve));
      for (analysis::ReportRun& step : sw->steps) runs.push_back(std::move(step));
      continue;
    }
    auto r = analysis::load_report_run(in);
    if (!r) {
      std::fprintf(stderr, "llmload report: %s\n", r.error().c_str());
      return kExitUsage;
    }
    runs.push_back(std::move(r.value()));
  }
  // Without --tiers, the tiers the (first) run was rated with: its scenario's `rating:`.
  if (a.tiers.empty() && !runs.empty()) tiers = runs.front().result.run.rating_tiers;
  auto w = write_file_atomic(a.out, analysis::html_report(runs, tiers, sweeps));
  if (!w) {
    std::fprintf(stderr, "llmload report: %s\n", w.error().c_str());
    return kExitInternal;
  }
  std::printf("wrote %s\n", a.out.c_str());
  return kExitOk;
}

}  // namespace

void register_report(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* sub = app.add_subcommand("report", "write the HTML report of one or more results");
  sub->add_option("results", args->inputs,
                  "results directories, summary.json files or sweep directories (overlaid)")
      ->required();
  sub->add_option("--out", args->out, "output file (default report.html)");
  sub->add_option("--tiers", args->tiers,
                  "rating tiers name:ttft:tokens_per_s, best first (default: the run's own, "
                  "from its scenario's rating:, else excellent:1s:100,good:2s:50,fair:4s:25)");
  sub->callback([args, &exit_code] { exit_code = run_report(*args); });
}

}  // namespace llmload::cli
