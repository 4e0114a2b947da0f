#include "worker/json_scan.h"

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>

namespace llmload::worker {
namespace {

// A cursor over JSON text. Every function returns nullptr on malformed input.
inline const char* skip_ws(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  return p;
}

inline bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A mask with the high bit set in each of the 8 bytes of w that is a quote, a backslash or a
// control byte (< 0x20), by the classic "has zero byte" test. A byte above a real match may be
// flagged too (a borrow carried over), never one below it, so the lowest flagged byte is exact.
static_assert(std::endian::native == std::endian::little,
              "skip_string's fast path assumes little-endian");
inline uint64_t attention_mask(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w)) & kHighs;
}

// p at the opening quote; returns the position after the closing quote.
const char* skip_string(const char* p, const char* end) {
  ++p;
  for (;;) {
    // Fast path: plain bytes, 8 at a time, then straight to the first byte that matters
    // (little-endian: the lowest address is the lowest byte).
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (const uint64_t m = attention_mask(w)) {
        p += __builtin_ctzll(m) >> 3;
        break;
      }
      p += 8;
    }
    if (p >= end) return nullptr;
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"') return p + 1;
    if (c < 0x20) return nullptr;
    if (c != '\\') {
      ++p;
      continue;
    }
    if (++p >= end) return nullptr;
    switch (*p) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        ++p;
        break;
      case 'u':
        if (end - p < 5) return nullptr;
        for (int i = 1; i <= 4; ++i)
          if (!is_hex(p[i])) return nullptr;
        p += 5;
        break;
      default:
        return nullptr;
    }
  }
}

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

const char* skip_number(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p >= end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    while (p < end && is_digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || !is_digit(*p)) return nullptr;
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || !is_digit(*p)) return nullptr;
    while (p < end && is_digit(*p)) ++p;
  }
  return p;
}

inline const char* skip_literal(const char* p, const char* end, std::string_view lit) {
  if (size_t(end - p) < lit.size() || std::memcmp(p, lit.data(), lit.size()) != 0) return nullptr;
  return p + lit.size();
}

const char* skip_value(const char* p, const char* end, int depth, JsonType* type);

// p at '{' or '['; returns the position after the matching close.
const char* skip_container(const char* p, const char* end, int depth) {
  if (depth >= kMaxJsonDepth) return nullptr;
  const bool object = *p == '{';
  const char close = object ? '}' : ']';
  p = skip_ws(p + 1, end);
  if (p < end && *p == close) return p + 1;
  for (;;) {
    if (object) {
      if (p >= end || *p != '"') return nullptr;
      p = skip_string(p, end);
      if (!p) return nullptr;
      p = skip_ws(p, end);
      if (p >= end || *p != ':') return nullptr;
      p = skip_ws(p + 1, end);
    }
    JsonType t;
    p = skip_value(p, end, depth + 1, &t);
    if (!p) return nullptr;
    p = skip_ws(p, end);
    if (p >= end) return nullptr;
    if (*p == close) return p + 1;
    if (*p != ',') return nullptr;
    p = skip_ws(p + 1, end);
  }
}

// p at the first byte of a value (no leading whitespace).
const char* skip_value(const char* p, const char* end, int depth, JsonType* type) {
  if (p >= end) return nullptr;
  switch (*p) {
    case '"':
      *type = JsonType::string;
      return skip_string(p, end);
    case '{':
      *type = JsonType::object;
      return skip_container(p, end, depth);
    case '[':
      *type = JsonType::array;
      return skip_container(p, end, depth);
    case 't':
      *type = JsonType::boolean;
      return skip_literal(p, end, "true");
    case 'f':
      *type = JsonType::boolean;
      return skip_literal(p, end, "false");
    case 'n':
      *type = JsonType::null;
      return skip_literal(p, end, "null");
    default:
      *type = JsonType::number;
      return skip_number(p, end);
  }
}

}  // namespace

bool JsonSlice::is_empty_container() const {
  if (type != JsonType::object && type != JsonType::array) return false;
  const char* p = skip_ws(raw.data() + 1, raw.data() + raw.size());
  return p < raw.data() + raw.size() && (*p == '}' || *p == ']');
}

JsonSlice json_parse_value(std::string_view text) {
  const char* end = text.data() + text.size();
  const char* b = skip_ws(text.data(), end);
  JsonType t;
  const char* e = skip_value(b, end, 0, &t);
  if (!e || skip_ws(e, end) != end) return {};
  return {t, std::string_view(b, size_t(e - b))};
}

bool json_find_members(std::string_view object, const std::string_view* keys, size_t n,
                       JsonSlice* out) {
  for (size_t i = 0; i < n; ++i) out[i] = {};
  const char* p = object.data();
  const char* end = p + object.size();
  if (p >= end || *p != '{') return false;
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}') return skip_ws(p + 1, end) == end;
  for (;;) {
    if (p >= end || *p != '"') return false;
    const char* key_end = skip_string(p, end);
    if (!key_end) return false;
    const std::string_view key(p + 1, size_t(key_end - p - 2));
    p = skip_ws(key_end, end);
    if (p >= end || *p != ':') return false;
    p = skip_ws(p + 1, end);
    JsonType t;
    const char* v_end = skip_value(p, end, 1, &t);
    if (!v_end) return false;
    for (size_t i = 0; i < n; ++i) {
      if (!out[i].present() && keys[i] == key) {
        out[i] = {t, std::string_view(p, size_t(v_end - p))};
        break;
      }
    }
    p = skip_ws(v_end, end);
    if (p >= end) return false;
    if (*p == '}') return skip_ws(p + 1, end) == end;
    if (*p != ',') return false;
    p = skip_ws(p + 1, end);
  }
}

JsonSlice json_array_element(std::string_view array, size_t index, bool* ok) {
  *ok = false;
  const char* p = array.data();
  const char* end = p + array.size();
  if (p >= end || *p != '[') return {};
  p = skip_ws(p + 1, end);
  JsonSlice found;
  if (p < end && *p == ']') {
    *ok = skip_ws(p + 1, end) == end;
    return found;
  }
  for (size_t i = 0;; ++i) {
    JsonType t;
    const char* v_end = skip_value(p, end, 1, &t);
    if (!v_end) return {};
    if (i == index) found = {t, std::string_view(p, size_t(v_end - p))};
    p = skip_ws(v_end, end);
    if (p >= end) return {};
    if (*p == ']') {
      *ok = skip_ws(p + 1, end) == end;
      return *ok ? found : JsonSlice{};
    }
    if (*p != ',') return {};
    p = skip_ws(p + 1, end);
  }
}

int64_t json_array_count(std::string_view array, JsonType element) {
  const char* p = array.data();
  const char* end = p + array.size();
  if (p >= end || *p != '[') return -1;
  p = skip_ws(p + 1, end);
  if (p < end && *p == ']') return skip_ws(p + 1, end) == end ? 0 : -1;
  for (int64_t n = 1;; ++n) {
    JsonType t;
    const char* v_end = skip_value(p, end, 1, &t);
    if (!v_end || (element != JsonType::missing && t != element)) return -1;
    p = skip_ws(v_end, end);
    if (p >= end) return -1;
    if (*p == ']') return skip_ws(p + 1, end) == end ? n : -1;
    if (*p != ',') return -1;
    p = skip_ws(p + 1, end);
  }
}

bool json_to_int(const JsonSlice& v, int64_t& out) {
  if (v.type != JsonType::number) return false;
  const char* b = v.raw.data();
  const char* e = b + v.raw.size();
  auto [ptr, ec] = std::from_chars(b, e, out);
  if (ec == std::errc() && ptr == e) return true;
  // Integral values written as 12.0 or 1e3.
  double d;
  if (!json_to_double(v, d) || d != d || d < -9.2e18 || d > 9.2e18) return false;
  out = static_cast<int64_t>(d);
  return static_cast<double>(out) == d;
}

bool json_to_double(const JsonSlice& v, double& out) {
  if (v.type != JsonType::number) return false;
  const char* b = v.raw.data();
  const char* e = b + v.raw.size();
  auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e;
}

namespace {
void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

uint32_t hex4(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    v = v * 16 + uint32_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}
}  // namespace

bool json_unescape(const JsonSlice& v, std::string& out) {
  if (v.type != JsonType::string || v.raw.size() < 2) return false;
  const char* p = v.raw.data() + 1;
  const char* end = v.raw.data() + v.raw.size() - 1;
  while (p < end) {
    if (*p != '\\') {
      out.push_back(*p++);
      continue;
    }
    if (++p >= end) return false;
    const char c = *p++;
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (end - p < 4) return false;
        for (int i = 0; i < 4; ++i)
          if (!is_hex(p[i])) return false;
        uint32_t cp = hex4(p);
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          bool hex_ok = true;
          for (int i = 2; i < 6; ++i) hex_ok = hex_ok && is_hex(p[i]);
          const uint32_t lo = hex_ok ? hex4(p + 2) : 0;
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
        append_utf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace llmload::worker
