// Files written whole or not at all: a temporary file in the same directory, written, fsynced,
// then renamed over the target (and the directory fsynced), so a reader or a crash never sees a
// partial file. The temporary file is removed on any failure.
#pragma once

#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload {

// Returns `path` on success; the error names the path and the failing step.
Expected<std::string> write_file_atomic(const std::string& path, std::string_view content);

// Reads a whole file, refusing more than max_bytes (error names the path).
Expected<std::string> read_file(const std::string& path, std::size_t max_bytes = 256u << 20);

}  // namespace llmload
