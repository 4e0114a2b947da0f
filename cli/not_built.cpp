#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/exit_codes.h"

namespace llmload::cli {

void register_not_built(CLI::App& app, int& exit_code, const char* name, const char* what) {
  CLI::App* sub = app.add_subcommand(name, std::string(what) + " (not built yet)");
  sub->allow_extras();
  std::string n = name;
  sub->callback([&exit_code, n] {
    std::fprintf(stderr, "llmload %s: not built yet in this version\n", n.c_str());
    exit_code = kExitInternal;
  });
}

}  // namespace llmload::cli
