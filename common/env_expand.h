// ${VAR} expansion for header values, and redaction of secret values from text.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace llmload {

// Looks a variable up; nullopt when it is not set. The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

struct Expansion {
  std::string value;                 // the text with every ${VAR} replaced ("" when missing)
  std::vector<std::string> used;     // names referenced, in order
  std::vector<std::string> missing;  // names referenced but not set
};

// Expands ${NAME} (NAME: [A-Za-z_][A-Za-z0-9_]*). `$$` is a literal `$`; a `$` not followed by
// `{` or `$` is kept as is. Errors: an unterminated `${` or an invalid name (the message quotes
// the reference, never a value).
Expected<Expansion> expand_env(std::string_view text, const EnvLookup& lookup);
// True when the text contains a ${...} reference.
bool has_env_reference(std::string_view text);

// Replaces every occurrence of each secret (non-empty) in `text` with "***".
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace llmload
