#include "cli/coordinator_setup.h"

#include <cstdio>

#include "cli/run_gates.h"
#include "common/duration.h"
#include "common/exit_codes.h"
#include "coordinator/curve_keys.h"

namespace llmload::cli {

void add_coordinator_flags(CLI::App* sub, CoordinatorFlags& f) {
  sub->add_option("--join-timeout", f.join_timeout, "how long to wait for them (default 120s)");
  sub->add_option("--preflight-timeout", f.preflight_timeout,
                  "how long to wait for every worker's pre-flight verdict before the start; a "
                  "worker not in by then is never started (default 60s)");
  sub->add_option("--curve-key", f.curve_key,
                  "CURVE key PREFIX (llmload keygen): encrypt and authenticate");
  sub->add_option("--allow-keys", f.allow_keys, "file of worker public keys let in (repeatable)");
  sub->add_flag("--allow-insecure", f.allow_insecure,
                "allow a non-loopback bind without CURVE (anyone reaching the port can join)");
}

Expected<bool> apply_coordinator_flags(const CoordinatorFlags& f, coord::CoordinatorOptions& co) {
  co.bind = f.bind;
  co.allow_insecure = f.allow_insecure;
  auto timeout = parse_duration_ns(f.join_timeout);
  if (!timeout) return Error{"--join-timeout: " + timeout.error()};
  co.join_timeout_ns = timeout.value();
  auto pf_timeout = parse_duration_ns(f.preflight_timeout);
  if (!pf_timeout || pf_timeout.value() <= 0)
    return Error{"--preflight-timeout: " +
                 (pf_timeout ? std::string("must be more than 0") : pf_timeout.error())};
  co.preflight_timeout_ns = pf_timeout.value();
  if (!f.curve_key.empty()) {
    auto keys = coord::load_curve_keypair(f.curve_key);
    if (!keys) return Error{"--curve-key: " + keys.error()};
    co.curve = keys.value();
    for (const auto& file : f.allow_keys) {
      auto list = coord::load_allow_list(file);
      if (!list) return Error{"--allow-keys: " + list.error()};
      co.allowed_keys.insert(co.allowed_keys.end(), list->begin(), list->end());
    }
  } else if (!f.allow_keys.empty()) {
    return Error{"--allow-keys needs --curve-key"};
  }
  return true;
}

int run_on_coordinator(coord::Coordinator& c, int workers, const RunFlags& f, PreparedRun& p,
                       coord::RunOutcome& out, bool print_summary, const char* who) {
  coord::CoordinatorOptions& co = c.options();
  co.workers = workers;
  co.out_dir = p.out_dir;
  co.requests_csv = f.requests_csv;
  co.requests_jsonl = f.requests_jsonl;
  co.progress = coord::ProgressView::choose(f.json, f.quiet, stdout);
  co.command = p.command;
  co.evaluate_assertions = nullptr;
  co.on_interval = nullptr;
  RunGates gates(f, p.scenario, p.prompts);
  if (auto g = gates.attach(co); !g) {
    std::fprintf(stderr, "%s: %s\n", who, g.error().c_str());
    return kExitUsage;
  }
  out = c.run(p.scenario, p.prompts, p.run_id);
  // The hooks point into `gates`, gone at return.
  co.evaluate_assertions = nullptr;
  co.on_interval = nullptr;
  if (!out.message.empty()) std::fprintf(stderr, "%s: %s\n", who, out.message.c_str());
  int code = gates.finish(out, p.out_dir);
  if (print_summary && out.results_written && !f.json)
    print_run_summary(out.result, p.out_dir, f.quiet ? stderr : stdout);
  return code;
}

}  // namespace llmload::cli
