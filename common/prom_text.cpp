#include "common/prom_text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace llmload {
namespace {

bool name_start(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool name_char(char c, bool colon) {
  return name_start(c, colon) || (c >= '0' && c <= '9');
}

// A cursor over one line; every reader stops at the line's end.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool end() const { return i >= s.size(); }
  char peek() const { return end() ? '\0' : s[i]; }
  void blanks() {
    while (!end() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  std::string_view name(bool colon) {
    const std::size_t from = i;
    if (end() || !name_start(s[i], colon)) return {};
    while (!end() && name_char(s[i], colon)) ++i;
    return s.substr(from, i - from);
  }
  std::string_view token() {
    const std::size_t from = i;
    while (!end() && s[i] != ' ' && s[i] != '\t') ++i;
    return s.substr(from, i - from);
  }
};

struct Problem {
  const char* why;
};

bool parse_value(std::string_view t, double& out) {
  if (t == "+Inf" || t == "Inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (t == "-Inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (t == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t.front())) || t.front() == '-' ||
                     t.front() == '.')) {
    return false;  // from_chars would also take "inf", "nan" spelled otherwise
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && p == t.data() + t.size();
}

void append_escaped(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// {a="x",...} from the cursor at '{'; the labels rendered sorted into `out`.
void parse_labels(Cursor& c, const PromLimits& limits, std::string& out) {
  std::vector<std::pair<std::string_view, std::string>> labels;
  ++c.i;  // '{'
  for (;;) {
    c.blanks();
    if (c.peek() == '}') {
      ++c.i;
      break;
    }
    const std::string_view key = c.name(false);
    if (key.empty()) throw Problem{"bad label name"};
    c.blanks();
    if (c.peek() != '=') throw Problem{"expected '=' after a label name"};
    ++c.i;
    c.blanks();
    if (c.peek() != '"') throw Problem{"expected a quoted label value"};
    ++c.i;
    std::string value;
    for (;;) {
      if (c.end()) throw Problem{"unterminated label value"};
      const char ch = c.s[c.i++];
      if (ch == '"') break;
      if (ch != '\\') {
        value += ch;
        continue;
      }
      if (c.end()) throw Problem{"unterminated label value"};
      const char e = c.s[c.i++];
      if (e == 'n')
        value += '\n';
      else if (e == '\\' || e == '"')
        value += e;
      else
        throw Problem{"bad escape in a label value"};
    }
    if (labels.size() >= limits.max_labels) throw Problem{"too many labels"};
    for (const auto& [k, v] : labels)
      if (k == key) throw Problem{"duplicate label"};
    labels.emplace_back(key, std::move(value));
    c.blanks();
    if (c.peek() == ',') {
      ++c.i;
      continue;
    }
    if (c.peek() != '}') throw Problem{"expected ',' or '}' in the labels"};
  }
  if (labels.empty()) return;
  std::sort(labels.begin(), labels.end());
  out = "{";
  for (std::size_t k = 0; k < labels.size(); ++k) {
    if (k > 0) out += ',';
    out += labels[k].first;
    out += "=\"";
    append_escaped(out, labels[k].second);
    out += '"';
  }
  out += '}';
}

PromSample parse_sample(std::string_view line, const PromLimits& limits) {
  Cursor c{line, 0};
  PromSample s;
  const std::string_view name = c.name(true);
  if (name.empty()) throw Problem{"bad metric name"};
  s.name = name;
  c.blanks();
  if (c.peek() == '{') parse_labels(c, limits, s.labels);
  c.blanks();
  if (!parse_value(c.token(), s.value)) throw Problem{"bad value"};
  c.blanks();
  if (!c.end()) {
    const std::string_view ts = c.token();
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), ms);
    if (ec != std::errc() || p != ts.data() + ts.size()) throw Problem{"bad timestamp"};
    c.blanks();
    if (!c.end()) throw Problem{"text after the timestamp"};
  }
  return s;
}

}  // namespace

Expected<PromPage> parse_prom_text(std::string_view text, const PromLimits& limits) {
  if (text.size() > limits.max_page_bytes) {
    return Error{"page of " + std::to_string(text.size()) + " bytes is over the limit of " +
                 std::to_string(limits.max_page_bytes)};
  }
  PromPage page;
  std::size_t pos = 0;
  int64_t line_no = 0;
  auto skip = [&](const std::string& why) {
    if (page.skipped++ == 0) page.first_problem = "line " + std::to_string(line_no) + ": " + why;
  };
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (line.size() > limits.max_line_bytes) {
      skip("longer than " + std::to_string(limits.max_line_bytes) + " bytes");
      continue;
    }
    if (page.samples.size() >= limits.max_samples) {
      skip("more than " + std::to_string(limits.max_samples) + " samples");
      continue;
    }
    try {
      page.samples.push_back(parse_sample(line.substr(first), limits));
    } catch (const Problem& p) {
      skip(p.why);
    }
  }
  return page;
}

}  // namespace llmload
