#include "cli/commands.h"

namespace llmload::cli {

void register_coordinator(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "coordinator", "coordinate a distributed run over ZeroMQ");
}

}  // namespace llmload::cli
