#include "cli/commands.h"

namespace llmload::cli {

void register_mock(CLI::App& app, int& exit_code) {
  register_not_built(app, exit_code, "mock", "the built-in mock LLM server");
}

}  // namespace llmload::cli
