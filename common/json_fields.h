// Reading untrusted JSON field by field, with errors that name the field at fault
// ("counters.ok: not a non-negative integer"). Used by the wire decoders and the summary
// reader. The helpers throw FieldError; each public decoder catches it at its top and returns
// it as an Error value, so no exception escapes a decoder.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload::json_fields {

// Counters are bounded so that merging thousands of hostile-but-valid values cannot overflow.
inline constexpr int64_t kMaxCount = int64_t{1} << 50;

class FieldError : public std::runtime_error {
 public:
  FieldError(const std::string& path, const std::string& what)
      : std::runtime_error(path.empty() ? what : path + ": " + what) {}
};

[[noreturn]] void fail(const std::string& path, const std::string& what);

// "parent.key" ("key" when parent is empty); "parent[i]".
std::string sub(std::string_view parent, std::string_view key);
std::string index(std::string_view parent, std::size_t i);

const nlohmann::json& object(const nlohmann::json& v, const std::string& path);
const nlohmann::json& array(const nlohmann::json& v, const std::string& path);
// obj[key], which must exist (obj must be an object).
const nlohmann::json& member(const nlohmann::json& obj, std::string_view key,
                             const std::string& path);
// nullptr when absent.
const nlohmann::json* optional_member(const nlohmann::json& obj, std::string_view key);

int64_t count(const nlohmann::json& v, const std::string& path, int64_t max = kMaxCount);
int64_t integer(const nlohmann::json& v, const std::string& path);
double number(const nlohmann::json& v, const std::string& path);  // finite
bool boolean(const nlohmann::json& v, const std::string& path);
const std::string& string(const nlohmann::json& v, const std::string& path,
                          std::size_t max_bytes = 1 << 20);

// Parse JSON text / MessagePack with nesting bounded by max_depth: deeper input is refused
// before the (recursive) parts of the parser and of json's copy and dump can exhaust the stack.
// Hostile input (wire messages, result files) goes through these, never plain parse().
Expected<nlohmann::json> parse_json_bounded(std::string_view text, int max_depth = 64);
Expected<nlohmann::json> parse_msgpack_bounded(std::string_view bytes, int max_depth = 64);

}  // namespace llmload::json_fields
