// llmload: one binary, subcommands (DESIGN.md "One binary, subcommands").
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/exit_codes.h"

int main(int argc, char** argv) {
  CLI::App app{"llmload: a distributed load-testing harness for streaming LLM inference APIs"};
  app.set_version_flag("--version", std::string("llmload ") + LLMLOAD_VERSION);
  app.require_subcommand(1);
  int exit_code = llmload::kExitOk;
  llmload::cli::register_run(app, exit_code);
  llmload::cli::register_coordinator(app, exit_code);
  llmload::cli::register_worker(app, exit_code);
  llmload::cli::register_mock(app, exit_code);
  llmload::cli::register_sweep(app, exit_code);
  llmload::cli::register_merge(app, exit_code);
  llmload::cli::register_compare(app, exit_code);
  llmload::cli::register_report(app, exit_code);
  llmload::cli::register_validate(app, exit_code);
  llmload::cli::register_keygen(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message
    return llmload::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llmload: internal error: %s\n", e.what());
    return llmload::kExitInternal;
  }
  return exit_code;
}
