// llmload run SCENARIO [overrides]: embedded mode. One process holds the coordinator and
// --workers local workers, talking over inproc:// with the same messages as a distributed run.
#include <cstdio>

#include "cli/commands.h"
#include "cli/embedded_run.h"
#include "cli/run_options.h"
#include "common/exit_codes.h"
#include "mock/mock_server.h"

namespace llmload::cli {

namespace {

int run_embedded(const RunFlags& f) {
  auto prepared = prepare_run(f);
  if (!prepared) {
    std::fprintf(stderr, "%s\n", prepared.error().c_str());
    return kExitUsage;
  }
  coord::RunOutcome out;
  int code = run_embedded_prepared(f, prepared.value(), out, true);
  if (prepared->mock) prepared->mock->stop();
  return code;
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  CLI::App* sub =
      app.add_subcommand("run", "embedded mode: coordinator and local workers in one process");
  auto flags = std::make_shared<RunFlags>();
  add_run_flags(sub, *flags, true);
  sub->callback([&exit_code, flags] { exit_code = run_embedded(*flags); });
}

}  // namespace llmload::cli
