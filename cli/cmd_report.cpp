#include "cli/commands.h"

namespace llmload::cli {

void register_report(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "report", "write the HTML report of one or more results");
}

}  // namespace llmload::cli
