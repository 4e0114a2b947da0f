#include "cli/commands.h"

namespace llmload::cli {

void register_compare(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "compare", "compare a run against a baseline");
}

}  // namespace llmload::cli
