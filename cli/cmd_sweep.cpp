#include "cli/commands.h"

namespace llmload::cli {

void register_sweep(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "sweep", "capacity planning: step or search the load");
}

}  // namespace llmload::cli
