// A small allocation-free JSON scanner for the per-chunk hot path: it finds the few members that
// matter in a JSON object (choices, delta, content, usage, ...) without building a document.
// Every value it walks over is checked against the JSON grammar (strings, escapes, numbers,
// literals, nesting up to kMaxJsonDepth), so malformed text is reported, not guessed at.
// Member names are compared byte for byte (a name written with escapes does not match).
// UTF-8 inside strings is not validated (bytes >= 0x80 pass through as they are).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace llmload::worker {

inline constexpr int kMaxJsonDepth = 64;

enum class JsonType : uint8_t { missing, null, boolean, number, string, object, array };

// One value inside a larger JSON text: its type and its raw bytes (a string keeps its quotes).
struct JsonSlice {
  JsonType type = JsonType::missing;
  std::string_view raw;

  bool present() const { return type != JsonType::missing; }
  bool is_null() const { return type == JsonType::null; }
  bool is_string() const { return type == JsonType::string; }
  bool is_object() const { return type == JsonType::object; }
  bool is_array() const { return type == JsonType::array; }
  // A string with at least one character (escapes count as characters).
  bool is_nonempty_string() const { return type == JsonType::string && raw.size() > 2; }
  // The string's bytes between the quotes, escapes left as written.
  std::string_view string_raw() const {
    return type == JsonType::string ? raw.substr(1, raw.size() - 2) : std::string_view{};
  }
  bool is_true() const { return type == JsonType::boolean && raw == "true"; }
  // An array or object with no elements.
  bool is_empty_container() const;
};

// Skips leading/trailing whitespace and checks that `text` is exactly one JSON value.
// Returns its slice, or type missing when malformed.
JsonSlice json_parse_value(std::string_view text);

// Scans the members of `object` (an object slice's raw text) once and sets out[i] to the value
// of the member named keys[i] (the first one, when repeated); keys not present stay missing.
// Returns false when the object is malformed (out is then unspecified).
bool json_find_members(std::string_view object, const std::string_view* keys, size_t n,
                       JsonSlice* out);
inline bool json_find_members(std::string_view object, std::initializer_list<std::string_view> keys,
                              JsonSlice* out) {
  return json_find_members(object, keys.begin(), keys.size(), out);
}

// The element at `index` of `array` (an array slice's raw text); missing when the array is
// shorter. Sets *ok to false when the array is malformed.
JsonSlice json_array_element(std::string_view array, size_t index, bool* ok);
// The number of elements of `array` (one walk), each of type `element` (missing: any type);
// -1 when the array is malformed or an element has another type.
int64_t json_array_count(std::string_view array, JsonType element = JsonType::missing);

// Numbers: false when the slice is not a number or does not fit.
bool json_to_int(const JsonSlice& v, int64_t& out);
bool json_to_double(const JsonSlice& v, double& out);

// Decodes a JSON string slice (escapes, \u including surrogate pairs, as UTF-8) into `out`
// (appended). For the rare path (error messages); may allocate. False when not a valid string.
bool json_unescape(const JsonSlice& v, std::string& out);

}  // namespace llmload::worker
