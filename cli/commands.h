// Each subcommand lives in its own cli/cmd_<name>.cpp and registers itself on the app.
// The callback stores the subcommand's exit code in `exit_code` (common/exit_codes.h).
#pragma once

#include <CLI/CLI.hpp>

namespace llmload::cli {

void register_run(CLI::App& app, int& exit_code);
void register_coordinator(CLI::App& app, int& exit_code);
void register_worker(CLI::App& app, int& exit_code);
void register_mock(CLI::App& app, int& exit_code);
void register_sweep(CLI::App& app, int& exit_code);
void register_merge(CLI::App& app, int& exit_code);
void register_compare(CLI::App& app, int& exit_code);
void register_report(CLI::App& app, int& exit_code);
void register_validate(CLI::App& app, int& exit_code);
void register_keygen(CLI::App& app, int& exit_code);

}  // namespace llmload::cli
