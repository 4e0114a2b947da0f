// A result named on the command line: a summary.json file or a results directory holding one.
#pragma once

#include <filesystem>
#include <string>

namespace llmload::cli {

inline std::string summary_path_of(const std::string& arg) {
  std::filesystem::path p(arg);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) return (p / "summary.json").string();
  return arg;
}

}  // namespace llmload::cli
