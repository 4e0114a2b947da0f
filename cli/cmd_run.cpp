#include "cli/commands.h"

namespace llmload::cli {

void register_run(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "run", "embedded mode: coordinator and local workers in one process");
}

}  // namespace llmload::cli
