#include "common/trace.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/synthetic_text.h"

namespace llmload {

namespace {

using nlohmann::json;

constexpr double kTimeMsMax = 9e12;  // ~285 years: 9e18 ns stays below int64 overflow

// Nesting of a JSON text, counted outside strings: refuses deep input before nlohmann parses it.
bool depth_ok(std::string_view s) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kTraceJsonDepthMax) return false;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return true;
}

std::string escaped(const std::string& s) {
  std::string d = json(s).dump(-1, ' ', false, json::error_handler_t::strict);
  return d.substr(1, d.size() - 2);
}

class Builder {
 public:
  explicit Builder(std::string_view name) : name_(name) {}

  std::string where(int64_t line) const { return std::string(name_) + ":" + std::to_string(line); }
  Error fail(int64_t line, const std::string& what) const {
    return Error{where(line) + ": " + what};
  }

  // Adds a row at `t_ms` (absolute in the file's clock); errors name the line.
  std::optional<Error> add(TraceRow row, double t_ms, int64_t line) {
    if (!std::isfinite(t_ms) || t_ms < 0 || t_ms > kTimeMsMax)
      return fail(line, "time out of range (milliseconds, 0 .. 9e12)");
    if (t.rows.size() >= kTraceRowsMax)
      return fail(line, "more than " + std::to_string(kTraceRowsMax) + " rows");
    const auto abs_ns = static_cast<int64_t>(std::llround(t_ms * 1e6));
    if (t.rows.empty()) first_ns_ = abs_ns;
    if (abs_ns < last_ns_) return fail(line, "time goes back (rows must be in time order)");
    last_ns_ = abs_ns;
    row.t_ns = abs_ns - first_ns_;
    row.line = line;
    t.rows.push_back(row);
    t.span_ns = row.t_ns;
    return std::nullopt;
  }

  Trace t;

 private:
  std::string_view name_;
  int64_t first_ns_ = 0;
  int64_t last_ns_ = 0;
};

// A non-negative integer field (tokens), or an error message.
std::optional<std::string> tokens_of(const json& j, const char* key, bool required, int64_t& out) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return std::string("missing '") + key + "'";
    return std::nullopt;
  }
  if (!it->is_number_integer() && !it->is_number_unsigned())
    return std::string("'") + key + "' must be an integer";
  if (it->is_number_unsigned() ? it->get<uint64_t>() > uint64_t(kTraceTokensMax)
                               : (it->get<int64_t>() < 0 || it->get<int64_t>() > kTraceTokensMax))
    return std::string("'") + key + "' out of range (0 .. " + std::to_string(kTraceTokensMax) + ")";
  out = it->get<int64_t>();
  return std::nullopt;
}

std::optional<std::string> time_of(const json& j, const char* key, double& out) {
  auto it = j.find(key);
  if (it == j.end()) return std::string("missing '") + key + "'";
  if (!it->is_number()) return std::string("'") + key + "' must be a number (milliseconds)";
  out = it->get<double>();
  return std::nullopt;
}

std::optional<Error> json_line(Builder& b, std::string_view text, int64_t line,
                               TraceFormat format) {
  if (!depth_ok(text)) return b.fail(line, "nested too deep");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return b.fail(line, "not valid JSON");
  if (!j.is_object()) return b.fail(line, "expected a JSON object");
  TraceRow row;
  double t_ms = 0;
  std::optional<std::string> bad;
  if (format == TraceFormat::kMooncake) {
    bad = time_of(j, "timestamp", t_ms);
    if (!bad) bad = tokens_of(j, "input_length", true, row.input_tokens);
    if (!bad) bad = tokens_of(j, "output_length", true, row.output_tokens);
    if (!bad) {
      auto h = j.find("hash_ids");
      if (h != j.end()) {
        if (!h->is_array()) {
          bad = "'hash_ids' must be a list of integers";
        } else if (h->size() > kTraceRowHashIdsMax) {
          bad = "'hash_ids' has more than " + std::to_string(kTraceRowHashIdsMax) + " ids";
        } else if (b.t.hash_ids.size() + h->size() > kTraceHashIdsMax) {
          bad = "more than " + std::to_string(kTraceHashIdsMax) + " hash ids in the file";
        } else {
          row.hash_begin = uint32_t(b.t.hash_ids.size());
          for (const json& id : *h) {
            if (!id.is_number_integer() && !id.is_number_unsigned()) {
              bad = "'hash_ids' must be a list of integers";
              break;
            }
            b.t.hash_ids.push_back(id.is_number_unsigned() ? id.get<uint64_t>()
                                                           : uint64_t(id.get<int64_t>()));
          }
          row.hash_count = uint32_t(b.t.hash_ids.size() - row.hash_begin);
        }
      }
    }
  } else {
    bad = time_of(j, "t_ms", t_ms);
    if (!bad) bad = tokens_of(j, "input_tokens", true, row.input_tokens);
    if (!bad) bad = tokens_of(j, "output_tokens", true, row.output_tokens);
    if (!bad) {
      if (auto p = j.find("prompt"); p != j.end()) {
        if (!p->is_string() || p->get_ref<const std::string&>().empty()) {
          bad = "'prompt' must be a non-empty string";
        } else {
          std::string e;
          try {
            e = escaped(p->get_ref<const std::string&>());
          } catch (const json::exception&) {
            bad = "'prompt' is not valid UTF-8";
          }
          if (!bad) {
            row.prompt = int32_t(b.t.prompts_json.size());
            b.t.prompts_json.push_back(std::move(e));
          }
        }
      }
    }
    if (!bad) {
      if (auto m = j.find("model"); m != j.end()) {
        if (!m->is_string() || m->get_ref<const std::string&>().empty() ||
            m->get_ref<const std::string&>().size() > 256) {
          bad = "'model' must be a non-empty string of at most 256 bytes";
        } else {
          const auto& name = m->get_ref<const std::string&>();
          size_t k = 0;
          while (k < b.t.models.size() && b.t.models[k] != name) ++k;
          if (k == b.t.models.size()) {
            if (k >= kTraceModelsMax)
              bad = "more than " + std::to_string(kTraceModelsMax) + " distinct models";
            else
              b.t.models.push_back(name);
          }
          row.model = int32_t(k);
        }
      }
    }
    if (!bad) {
      if (auto s = j.find("session"); s != j.end()) {
        if (s->is_string()) {
          const auto& v = s->get_ref<const std::string&>();
          uint64_t h = 0xcbf29ce484222325ULL;
          for (unsigned char c : v) h = (h ^ c) * 0x100000001b3ULL;
          row.session = h;
        } else if (s->is_number_integer() || s->is_number_unsigned()) {
          row.session = mix64(s->get<uint64_t>());
        } else {
          bad = "'session' must be a string or an integer";
        }
        row.has_session = true;
      }
    }
  }
  if (bad) return b.fail(line, *bad);
  return b.add(row, t_ms, line);
}

// days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DD HH:MM:SS[.fraction]" (also with 'T') or plain seconds → milliseconds.
std::optional<double> azure_time_ms(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  auto digits = [&](size_t pos, size_t n) -> std::optional<int64_t> {
    if (pos + n > s.size()) return std::nullopt;
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T')) {
    auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2),
         mi = digits(14, 2), se = digits(17, 2);
    if (!y || !mo || !d || !h || !mi || !se || s[13] != ':' || s[16] != ':') return std::nullopt;
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60)
      return std::nullopt;
    double frac = 0;
    if (s.size() > 19) {
      if (s[19] != '.' || s.size() == 20 || s.size() > 30) return std::nullopt;
      double scale = 0.1;
      for (size_t i = 20; i < s.size(); ++i, scale /= 10) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        frac += (s[i] - '0') * scale;
      }
    }
    const int64_t days = days_from_civil(*y, unsigned(*mo), unsigned(*d));
    if (days < 0) return std::nullopt;
    const double secs = double(days) * 86400 + double(*h * 3600 + *mi * 60 + *se) + frac;
    return secs * 1000;
  }
  // Plain seconds.
  double v = 0;
  size_t used = 0;
  try {
    v = std::stod(std::string(s), &used);
  } catch (...) {
    return std::nullopt;
  }
  if (used != s.size()) return std::nullopt;
  return v * 1000;
}

std::vector<std::string_view> csv_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
      if (out.size() > 64) break;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<int64_t> csv_tokens(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > kTraceTokensMax) return std::nullopt;
  return v;
}

}  // namespace

std::string_view trace_format_name(TraceFormat f) {
  switch (f) {
    case TraceFormat::kMooncake:
      return "mooncake";
    case TraceFormat::kAzure:
      return "azure";
    case TraceFormat::kJsonl:
      return "jsonl";
  }
  return "jsonl";
}

Expected<Trace> parse_trace(std::string_view text, TraceFormat format, std::string_view name) {
  Builder b(name);
  int64_t line = 0;
  int ts_col = -1, in_col = -1, out_col = -1;
  bool header = format == TraceFormat::kAzure;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (l.size() > kTraceLineBytesMax)
      return b.fail(line, "line longer than " + std::to_string(kTraceLineBytesMax) + " bytes");
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (trim(l).empty()) continue;
    if (format != TraceFormat::kAzure) {
      if (auto e = json_line(b, l, line, format)) return *e;
      continue;
    }
    const auto f = csv_fields(l);
    if (f.size() > 64) return b.fail(line, "more than 64 columns");
    if (header) {
      for (size_t i = 0; i < f.size(); ++i) {
        const std::string_view c = trim(f[i]);
        if (c == "TIMESTAMP") ts_col = int(i);
        if (c == "ContextTokens") in_col = int(i);
        if (c == "GeneratedTokens") out_col = int(i);
      }
      if (ts_col < 0 || in_col < 0 || out_col < 0)
        return b.fail(line,
                      "the header must name the columns TIMESTAMP, ContextTokens and "
                      "GeneratedTokens");
      header = false;
      continue;
    }
    const int need = std::max({ts_col, in_col, out_col});
    if (int(f.size()) <= need)
      return b.fail(line, "expected " + std::to_string(need + 1) + " columns at least");
    TraceRow row;
    auto t = azure_time_ms(f[size_t(ts_col)]);
    if (!t) return b.fail(line, "TIMESTAMP: expected 'YYYY-MM-DD HH:MM:SS[.fraction]' or seconds");
    auto in = csv_tokens(f[size_t(in_col)]);
    if (!in) return b.fail(line, "ContextTokens: expected an integer 0 .. 1000000");
    auto out = csv_tokens(f[size_t(out_col)]);
    if (!out) return b.fail(line, "GeneratedTokens: expected an integer 0 .. 1000000");
    row.input_tokens = *in;
    row.output_tokens = *out;
    if (auto e = b.add(row, *t, line)) return *e;
  }
  if (header) return Error{std::string(name) + ": no header line (azure CSV)"};
  if (b.t.rows.empty()) return Error{std::string(name) + ": the trace has no rows"};
  return std::move(b.t);
}

Expected<Trace> load_trace(const TraceSpec& spec) {
  // A regular file only: a FIFO or device named by a hostile scenario must not block or stream.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(spec.file, ec)) return Error{spec.file + ": not a file"};
  std::ifstream in(spec.file, std::ios::binary);
  if (!in) return Error{spec.file + ": cannot be read"};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return Error{spec.file + ": cannot be read"};
  if (size_t(size) > kTraceFileBytesMax)
    return Error{spec.file + ": larger than " + std::to_string(kTraceFileBytesMax >> 20) + " MiB"};
  in.seekg(0);
  std::string text(size_t(size), '\0');
  in.read(text.data(), size);
  if (!in) return Error{spec.file + ": read failed"};
  return parse_trace(text, spec.format, spec.file);
}

int64_t trace_loop_gap_ns(const Trace& t) {
  if (t.rows.size() < 2) return 1'000'000;
  return std::max<int64_t>(1, t.span_ns / int64_t(t.rows.size() - 1));
}

}  // namespace llmload
