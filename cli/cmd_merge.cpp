// llmload merge RESULT... --out DIR: exact merge through the stored histograms.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "analysis/gates/merge.h"
#include "cli/commands.h"
#include "cli/result_paths.h"
#include "common/atomic_file.h"
#include "common/exit_codes.h"
#include "common/results_csv.h"
#include "common/results_json.h"

namespace llmload::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string out;
  bool concurrent = false;
};

int run_merge(const MergeArgs& a) {
  std::vector<analysis::MergeInput> inputs;
  for (const std::string& arg : a.inputs) {
    std::string path = summary_path_of(arg);
    auto r = read_summary(path);
    if (!r) {
      std::fprintf(stderr, "llmload merge: %s\n", r.error().c_str());
      return kExitUsage;
    }
    inputs.push_back(analysis::MergeInput{path, std::move(r.value())});
  }
  auto merged = analysis::merge_results(inputs, analysis::MergeOptions{a.concurrent});
  if (!merged) {
    std::fprintf(stderr, "llmload %s\n", merged.error().c_str());
    return kExitUsage;
  }
  std::error_code ec;
  std::filesystem::create_directories(a.out, ec);
  if (ec) {
    std::fprintf(stderr, "llmload merge: cannot create %s: %s\n", a.out.c_str(),
                 ec.message().c_str());
    return kExitUsage;
  }
  // Sorted keys (summary_to_json), as merge has always written them.
  auto w = write_file_atomic(a.out + "/summary.json", summary_to_json(*merged).dump(2) + "\n");
  if (!w) {
    std::fprintf(stderr, "llmload merge: %s\n", w.error().c_str());
    return kExitInternal;
  }
  auto c = write_summary_csv(*merged, a.out + "/summary.csv");
  if (!c) {
    std::fprintf(stderr, "llmload merge: %s\n", c.error().c_str());
    return kExitInternal;
  }
  // Interval logs: merged when every input directory has one.
  std::vector<HdrLog> logs;
  for (const analysis::MergeInput& in : inputs) {
    std::string hlog =
        (std::filesystem::path(in.source).parent_path() / "histograms.hlog").string();
    if (!std::filesystem::exists(hlog, ec)) break;
    auto log = read_hdr_log_file(hlog);
    if (!log) {
      std::fprintf(stderr, "llmload merge: %s\n", log.error().c_str());
      return kExitUsage;
    }
    logs.push_back(std::move(log.value()));
  }
  if (!logs.empty() && logs.size() == inputs.size()) {
    auto text = analysis::hdr_log_text(analysis::merge_hdr_logs(logs),
                                       "llmload merge of " + std::to_string(logs.size()) + " runs");
    if (!text) {
      std::fprintf(stderr, "llmload merge: %s\n", text.error().c_str());
      return kExitInternal;
    }
    auto wl = write_file_atomic(a.out + "/histograms.hlog", *text);
    if (!wl) {
      std::fprintf(stderr, "llmload merge: %s\n", wl.error().c_str());
      return kExitInternal;
    }
  }
  const Counters& t = merged->total.counters;
  std::printf("merged %zu runs into %s: %lld requests (%lld ok, %lld failed) in %zu groups\n",
              inputs.size(), a.out.c_str(), (long long)t.requests, (long long)t.ok,
              (long long)t.failed, merged->groups.size());
  return kExitOk;
}

}  // namespace

void register_merge(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* sub = app.add_subcommand("merge", "merge results exactly through their histograms");
  sub->add_option("results", args->inputs, "summary.json files or results directories")
      ->required()
      ->expected(2, 1 << 20);
  sub->add_option("--out", args->out, "output directory")->required();
  sub->add_flag("--concurrent", args->concurrent,
                "the runs ran at the same time (the merged window is the longest, not the sum)");
  sub->callback([args, &exit_code] { exit_code = run_merge(*args); });
}

}  // namespace llmload::cli
