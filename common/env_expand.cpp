#include "common/env_expand.h"

#include <cctype>
#include <cstdlib>

namespace llmload {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

bool has_env_reference(std::string_view text) {
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '$' && text[i + 1] == '$') {
      ++i;
      continue;
    }
    if (text[i] == '$' && text[i + 1] == '{') return true;
  }
  return false;
}

Expected<Expansion> expand_env(std::string_view text, const EnvLookup& lookup) {
  Expansion out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out.value += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out.value += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] != '{') {
      out.value += c;
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Error{"unterminated '${' at offset " + std::to_string(i) + " (write ${NAME})"};
    }
    const std::string name(text.substr(i + 2, close - i - 2));
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char n : name) {
      if (!std::isalnum(static_cast<unsigned char>(n)) && n != '_') valid = false;
    }
    if (!valid) {
      return Error{"invalid variable name '${" + name +
                   "}' (letters, digits and '_', not starting with a digit)"};
    }
    out.used.push_back(name);
    if (auto v = lookup(name))
      out.value += *v;
    else
      out.missing.push_back(name);
    i = close + 1;
  }
  return out;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    size_t pos = 0;
    while ((pos = text.find(s, pos)) != std::string::npos) {
      text.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return text;
}

}  // namespace llmload
