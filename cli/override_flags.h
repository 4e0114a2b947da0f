// The scenario overrides shared by run, coordinator, sweep and validate (DESIGN.md "One
// binary, subcommands"): one place that declares the flags and fills common/overrides.h.
#pragma once

#include <CLI/CLI.hpp>

#include "common/overrides.h"

namespace llmload::cli {

// Adds --target --api --model --duration --requests --warmup --grace --interval --header
// --insecure --ca-file --assert --wait-ready to `sub`, writing into `o` (which must outlive
// parsing).
// With `load_levels`, also --concurrency N and --rate R (sweep declares its own lists).
void add_override_flags(CLI::App* sub, Overrides& o, bool load_levels = true);

}  // namespace llmload::cli
