#include "cli/commands.h"

namespace llmload::cli {

void register_validate(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "validate", "check a scenario file without running it");
}

}  // namespace llmload::cli
