#include "cli/commands.h"

namespace llmload::cli {

void register_worker(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "worker", "serve runs for a coordinator");
}

}  // namespace llmload::cli
