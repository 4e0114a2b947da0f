// llmload coordinator SCENARIO --bind ENDPOINT --workers N [overrides]: one distributed run.
#include <atomic>
#include <cstdio>

#include "cli/commands.h"
#include "cli/run_gates.h"
#include "cli/run_options.h"
#include "common/duration.h"
#include "common/exit_codes.h"
#include "coordinator/coordinator.h"
#include "coordinator/curve_keys.h"
#include "mock/mock_server.h"

namespace llmload::cli {

namespace {

struct CoordinatorFlags {
  RunFlags run;
  std::string bind = "tcp://127.0.0.1:5557";
  int workers = 1;
  std::string join_timeout = "120s";
  std::string preflight_timeout = "60s";
  std::string curve_key;
  std::vector<std::string> allow_keys;
  bool allow_insecure = false;
};

int run_coordinator(const CoordinatorFlags& f) {
  coord::CoordinatorOptions co;
  co.bind = f.bind;
  co.workers = f.workers;
  co.allow_insecure = f.allow_insecure;
  auto timeout = parse_duration_ns(f.join_timeout);
  if (!timeout) {
    std::fprintf(stderr, "llmload coordinator: --join-timeout: %s\n", timeout.error().c_str());
    return kExitUsage;
  }
  co.join_timeout_ns = timeout.value();
  auto pf_timeout = parse_duration_ns(f.preflight_timeout);
  if (!pf_timeout || pf_timeout.value() <= 0) {
    std::fprintf(stderr, "llmload coordinator: --preflight-timeout: %s\n",
                 pf_timeout ? "must be more than 0" : pf_timeout.error().c_str());
    return kExitUsage;
  }
  co.preflight_timeout_ns = pf_timeout.value();
  if (!f.curve_key.empty()) {
    auto keys = coord::load_curve_keypair(f.curve_key);
    if (!keys) {
      std::fprintf(stderr, "llmload coordinator: --curve-key: %s\n", keys.error().c_str());
      return kExitUsage;
    }
    co.curve = keys.value();
    for (const auto& file : f.allow_keys) {
      auto list = coord::load_allow_list(file);
      if (!list) {
        std::fprintf(stderr, "llmload coordinator: --allow-keys: %s\n", list.error().c_str());
        return kExitUsage;
      }
      co.allowed_keys.insert(co.allowed_keys.end(), list->begin(), list->end());
    }
  } else if (!f.allow_keys.empty()) {
    std::fprintf(stderr, "llmload coordinator: --allow-keys needs --curve-key\n");
    return kExitUsage;
  }
  auto prepared = prepare_run(f.run);
  if (!prepared) {
    std::fprintf(stderr, "%s\n", prepared.error().c_str());
    return kExitUsage;
  }
  PreparedRun& p = prepared.value();
  static std::atomic<int> signals{0};
  install_signal_counter(&signals, true);
  co.out_dir = p.out_dir;
  co.requests_csv = f.run.requests_csv;
  co.requests_jsonl = f.run.requests_jsonl;
  co.progress = coord::ProgressView::choose(f.run.json, f.run.quiet, stdout);
  co.command = p.command;
  co.signals = &signals;
  co.on_bound = [&](const std::string& ep) {
    std::fprintf(stderr, "llmload coordinator: listening on %s, waiting for %d worker(s)\n",
                 ep.c_str(), f.workers);
    std::fflush(stderr);
  };
  RunGates gates(f.run, p.scenario, p.prompts);
  if (auto g = gates.attach(co); !g) {
    std::fprintf(stderr, "llmload coordinator: %s\n", g.error().c_str());
    return kExitUsage;
  }
  coord::Coordinator coord(co);
  if (auto b = coord.bind(); !b) {
    std::fprintf(stderr, "llmload coordinator: %s\n", b.error().c_str());
    return kExitUsage;
  }
  coord::RunOutcome out = coord.run(p.scenario, p.prompts, p.run_id);
  if (p.mock) p.mock->stop();
  if (!out.message.empty()) std::fprintf(stderr, "llmload coordinator: %s\n", out.message.c_str());
  int code = gates.finish(out, p.out_dir);
  if (out.results_written && !f.run.json) {
    print_run_summary(out.result, p.out_dir, f.run.quiet ? stderr : stdout);
  }
  return code;
}

}  // namespace

void register_coordinator(CLI::App& app, int& exit_code) {
  CLI::App* sub = app.add_subcommand("coordinator", "run a scenario on remote workers");
  auto f = std::make_shared<CoordinatorFlags>();
  add_run_flags(sub, f->run, false);
  sub->add_option("--bind", f->bind,
                  "ZeroMQ endpoint (default tcp://127.0.0.1:5557; port * = any)");
  sub->add_option("--workers", f->workers, "wait for this many workers")
      ->required()
      ->check(CLI::Range(1, 100000));
  sub->add_option("--join-timeout", f->join_timeout, "how long to wait for them (default 120s)");
  sub->add_option("--preflight-timeout", f->preflight_timeout,
                  "how long to wait for every worker's pre-flight verdict before the start; a "
                  "worker not in by then is never started (default 60s)");
  sub->add_option("--curve-key", f->curve_key,
                  "CURVE key PREFIX (llmload keygen): encrypt and authenticate");
  sub->add_option("--allow-keys", f->allow_keys, "file of worker public keys let in (repeatable)");
  sub->add_flag("--allow-insecure", f->allow_insecure,
                "allow a non-loopback bind without CURVE (anyone reaching the port can join)");
  sub->callback([&exit_code, f] { exit_code = run_coordinator(*f); });
}

}  // namespace llmload::cli
