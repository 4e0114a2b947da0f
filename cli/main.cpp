// llmload: one binary, subcommands (DESIGN.md "One binary, subcommands").
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "common/scenario_parse_ctx.h"

namespace {

// For a mistyped option ("--concurency 5"): the closest option the chosen subcommand (or the
// top level) has, as a scenario field gets, or "" when none is close.
std::string did_you_mean(CLI::App& app, const std::string& what) {
  CLI::App* where = &app;
  for (CLI::App* sub : app.get_subcommands()) where = sub;
  std::vector<std::string> names;
  for (const CLI::Option* o : where->get_options()) {
    for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  }
  std::string hints;
  const std::string needle = "not expected: ";
  const size_t at = what.find(needle);
  if (at == std::string::npos) return hints;
  std::string rest = what.substr(at + needle.size());
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t end = rest.find(' ', pos);
    std::string arg = rest.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? rest.size() : end + 1;
    if (arg.rfind("--", 0) != 0) continue;
    arg = arg.substr(0, arg.find('='));
    const std::string hint = llmload::scenario_parse::closest_match(arg, names);
    if (!hint.empty()) {
      hints += std::string(hints.empty() ? "" : "\n") + "llmload: unknown option " + arg +
               ": did you mean " + hint + "?";
    }
  }
  return hints;
}

}  // namespace

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
  } catch (const CLI::ExtrasError& e) {
    app.exit(e);  // prints the message
    if (std::string hint = did_you_mean(app, e.what()); !hint.empty())
      std::fprintf(stderr, "%s\n", hint.c_str());
    return llmload::kExitUsage;
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message
    return llmload::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llmload: internal error: %s\n", e.what());
    return llmload::kExitInternal;
  }
  return exit_code;
}
