// llmload compare BASELINE CURRENT [--fail-on RULE]...: before/after in one command.
#include <cstdio>
#include <memory>

#include "analysis/gates/compare.h"
#include "analysis/gates/junit.h"
#include "cli/commands.h"
#include "cli/result_paths.h"
#include "common/exit_codes.h"
#include "common/results_json.h"

namespace llmload::cli {
namespace {

struct CompareArgs {
  std::string baseline, current;
  std::vector<std::string> fail_on;
  std::string junit;
  bool significant_only = false;
};

int run_compare(const CompareArgs& a) {
  std::vector<analysis::FailOnRule> rules;
  for (const std::string& text : a.fail_on) {
    auto r = analysis::parse_fail_on(text);
    if (!r) {
      std::fprintf(stderr, "llmload compare: %s\n", r.error().c_str());
      return kExitUsage;
    }
    rules.push_back(*r);
  }
  auto b = read_summary(summary_path_of(a.baseline));
  if (!b) {
    std::fprintf(stderr, "llmload compare: baseline: %s\n", b.error().c_str());
    return kExitUsage;
  }
  auto c = read_summary(summary_path_of(a.current));
  if (!c) {
    std::fprintf(stderr, "llmload compare: current: %s\n", c.error().c_str());
    return kExitUsage;
  }
  std::fputs(
      analysis::format_compare_table(analysis::compare_results(*b, *c), a.significant_only).c_str(),
      stdout);

  std::vector<analysis::JunitCase> cases;
  bool regressed = false;
  for (const analysis::FailOnRule& rule : rules) {
    analysis::FailOnOutcome o = analysis::evaluate_fail_on(rule, *b, *c);
    regressed = regressed || o.failed;
    std::printf("%s  --fail-on %s: %s\n", o.failed ? "REGRESSION" : "ok        ", rule.text.c_str(),
                o.message.c_str());
    cases.push_back(analysis::JunitCase{rule.text, !o.failed, o.message});
  }
  if (!a.junit.empty()) {
    auto w = analysis::write_junit(a.junit, "llmload.compare", cases);
    if (!w) {
      std::fprintf(stderr, "llmload compare: %s\n", w.error().c_str());
      return kExitInternal;
    }
  }
  return regressed ? kExitAssertion : kExitOk;
}

}  // namespace

void register_compare(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* sub = app.add_subcommand("compare", "compare a run against a baseline");
  sub->add_option("baseline", args->baseline, "baseline summary.json or results directory")
      ->required();
  sub->add_option("current", args->current, "current summary.json or results directory")
      ->required();
  sub->add_option("--fail-on", args->fail_on,
                  "regression rule, e.g. 'ttft.p99>+10%' (repeatable): exit 3 when it holds");
  sub->add_option("--junit", args->junit, "write a JUnit XML file (one case per --fail-on rule)");
  sub->add_flag("--significant-only", args->significant_only,
                "show only changes larger than the noise the histograms allow");
  sub->callback([args, &exit_code] { exit_code = run_compare(*args); });
}

}  // namespace llmload::cli
