#include "cli/commands.h"

namespace llmload::cli {

void register_merge(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "merge", "merge results exactly through their histograms");
}

}  // namespace llmload::cli
