#include "cli/commands.h"

namespace llmload::cli {

void register_keygen(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "keygen", "make a CURVE key pair");
}

}  // namespace llmload::cli
