#include "common/json_fields.h"

#include <cmath>
#include <limits>

namespace llmload::json_fields {

using nlohmann::json;

void fail(const std::string& path, const std::string& what) {
  throw FieldError(path, what);
}

std::string sub(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

const json& object(const json& v, const std::string& path) {
  if (!v.is_object()) fail(path, std::string("expected an object, found ") + v.type_name());
  return v;
}

const json& array(const json& v, const std::string& path) {
  if (!v.is_array()) fail(path, std::string("expected an array, found ") + v.type_name());
  return v;
}

const json& member(const json& obj, std::string_view key, const std::string& path) {
  object(obj, path);
  auto it = obj.find(key);
  if (it == obj.end()) fail(sub(path, key), "missing");
  return *it;
}

const json* optional_member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

int64_t count(const json& v, const std::string& path, int64_t max) {
  int64_t n = -1;
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(max)) n = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    n = v.get<int64_t>();
  }
  if (n < 0 || n > max) {
    fail(path, "expected a non-negative integer (at most " + std::to_string(max) + "), found " +
                   v.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 40));
  }
  return n;
}

int64_t integer(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(path, "integer out of range");
    }
    return static_cast<int64_t>(u);
  }
  if (!v.is_number_integer())
    fail(path, std::string("expected an integer, found ") + v.type_name());
  return v.get<int64_t>();
}

double number(const json& v, const std::string& path) {
  if (!v.is_number()) fail(path, std::string("expected a number, found ") + v.type_name());
  double d = v.get<double>();
  if (!std::isfinite(d)) fail(path, "not a finite number");
  return d;
}

bool boolean(const json& v, const std::string& path) {
  if (!v.is_boolean()) fail(path, std::string("expected true or false, found ") + v.type_name());
  return v.get<bool>();
}

const std::string& string(const json& v, const std::string& path, std::size_t max_bytes) {
  if (!v.is_string()) fail(path, std::string("expected a string, found ") + v.type_name());
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max_bytes) fail(path, "longer than " + std::to_string(max_bytes) + " bytes");
  return s;
}

namespace {

// The library's DOM builder, refusing to open containers deeper than max_depth. sax_parse
// takes the SAX type as a template parameter, so these hide (not override) the base methods.
class DepthLimitedSax : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  DepthLimitedSax(json& root, int max_depth)
      : json_sax_dom_parser(root, /*allow_exceptions=*/false), max_depth_(max_depth) {}
  bool start_object(std::size_t n) { return enter() && json_sax_dom_parser::start_object(n); }
  bool start_array(std::size_t n) { return enter() && json_sax_dom_parser::start_array(n); }
  bool end_object() {
    --depth_;
    return json_sax_dom_parser::end_object();
  }
  bool end_array() {
    --depth_;
    return json_sax_dom_parser::end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& e) {
    error_ = e.what();
    (void)position;
    (void)token;
    return false;
  }
  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }

 private:
  bool enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  std::string error_;
};

template <class Input>
Expected<json> parse_bounded(Input&& input, nlohmann::json::input_format_t format, int max_depth,
                             const char* what) {
  json root;
  DepthLimitedSax sax(root, max_depth);
  bool ok = false;
  try {
    ok = json::sax_parse(std::forward<Input>(input), &sax, format, /*strict=*/true);
  } catch (const json::exception& e) {
    return Error{std::string("not valid ") + what + " (" + e.what() + ")"};
  }
  if (sax.too_deep()) {
    return Error{std::string("not accepted: ") + what + " nested deeper than " +
                 std::to_string(max_depth) + " levels"};
  }
  if (!ok || sax.is_errored()) {
    return Error{std::string("not valid ") + what + " (" +
                 (sax.error().empty() ? std::string("parse error") : sax.error()) + ")"};
  }
  return root;
}

}  // namespace

Expected<json> parse_json_bounded(std::string_view text, int max_depth) {
  return parse_bounded(text, json::input_format_t::json, max_depth, "JSON");
}

Expected<json> parse_msgpack_bounded(std::string_view bytes, int max_depth) {
  return parse_bounded(bytes, json::input_format_t::msgpack, max_depth, "MessagePack");
}

}  // namespace llmload::json_fields
