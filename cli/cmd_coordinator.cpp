// llmload coordinator SCENARIO --bind ENDPOINT --workers N [overrides]: one distributed run.
#include <atomic>
#include <cstdio>

#include "cli/commands.h"
#include "cli/coordinator_setup.h"
#include "cli/run_options.h"
#include "common/exit_codes.h"
#include "coordinator/coordinator.h"
#include "mock/mock_server.h"

namespace llmload::cli {

namespace {

struct CoordinatorCmdFlags {
  RunFlags run;
  CoordinatorFlags coord;
  int workers = 1;
};

int run_coordinator(const CoordinatorCmdFlags& f) {
  coord::CoordinatorOptions co;
  if (auto a = apply_coordinator_flags(f.coord, co); !a) {
    std::fprintf(stderr, "llmload coordinator: %s\n", a.error().c_str());
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
  co.signals = &signals;
  co.on_bound = [&](const std::string& ep) {
    std::fprintf(stderr, "llmload coordinator: listening on %s, waiting for %d worker(s)\n",
                 ep.c_str(), f.workers);
    std::fflush(stderr);
  };
  coord::Coordinator coord(co);
  if (auto b = coord.bind(); !b) {
    std::fprintf(stderr, "llmload coordinator: %s\n", b.error().c_str());
    return kExitUsage;
  }
  coord::RunOutcome out;
  int code = run_on_coordinator(coord, f.workers, f.run, p, out, true, "llmload coordinator");
  if (p.mock) p.mock->stop();
  return code;
}

}  // namespace

void register_coordinator(CLI::App& app, int& exit_code) {
  CLI::App* sub = app.add_subcommand("coordinator", "run a scenario on remote workers");
  auto f = std::make_shared<CoordinatorCmdFlags>();
  f->coord.bind = "tcp://127.0.0.1:5557";
  add_run_flags(sub, f->run, false);
  sub->add_option("--bind", f->coord.bind,
                  "ZeroMQ endpoint (default tcp://127.0.0.1:5557; port * = any)");
  sub->add_option("--workers", f->workers, "wait for this many workers")
      ->required()
      ->check(CLI::Range(1, 100000));
  add_coordinator_flags(sub, f->coord);
  sub->callback([&exit_code, f] { exit_code = run_coordinator(*f); });
}

}  // namespace llmload::cli
