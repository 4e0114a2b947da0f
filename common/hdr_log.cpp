#include "common/hdr_log.h"

#include <charconv>
#include <cmath>
#include <ctime>

#include "common/number_format.h"

namespace llmload {
namespace {

constexpr std::string_view kVersionLine = "#[Histogram log format version 1.3]";
constexpr std::string_view kLegend =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";
constexpr double kSecondsPerYear = 365 * 24 * 3600.0;

// As Java's Date.toString() in UTC: "Sun Nov 23 19:00:00 UTC 2026".
std::string java_date(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The number right after `prefix` up to the next space, comma or ']'.
std::optional<double> number_after(std::string_view line, std::string_view prefix) {
  std::string_view rest = line.substr(prefix.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  size_t end = rest.find_first_of(" ,]");
  return parse_double(rest.substr(0, end));
}

}  // namespace

bool hdr_log_tag_valid(std::string_view tag) {
  if (tag.empty()) return false;
  for (char c : tag)
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  return true;
}

std::string hdr_log_header(int64_t start_time_ms, int64_t base_time_ms, std::string_view comment) {
  std::string out(kVersionLine);
  out += '\n';
  while (!comment.empty()) {
    size_t nl = comment.find('\n');
    out += '#';
    out += comment.substr(0, nl);
    out += '\n';
    comment = nl == std::string_view::npos ? std::string_view{} : comment.substr(nl + 1);
  }
  out += "#[StartTime: " + format_fixed(3, static_cast<double>(start_time_ms) / 1000.0) +
         " (seconds since epoch), " + java_date(start_time_ms) + "]\n";
  out += "#[BaseTime: " + format_fixed(3, static_cast<double>(base_time_ms) / 1000.0) +
         " (seconds since epoch)]\n";
  out += kLegend;
  out += '\n';
  return out;
}

Expected<std::string> hdr_log_interval_line(const HdrHistogram& h, int64_t base_time_ms,
                                            double max_value_unit_ratio) {
  if (!h.tag.empty() && !hdr_log_tag_valid(h.tag))
    return Error{"hlog: tag '" + h.tag + "' contains a comma, whitespace or line break"};
  if (h.end_time_ms < h.start_time_ms)
    return Error{"hlog: interval ends (" + std::to_string(h.end_time_ms) +
                 " ms) before it starts (" + std::to_string(h.start_time_ms) + " ms)"};
  if (!(max_value_unit_ratio > 0)) return Error{"hlog: max value unit ratio must be > 0"};
  std::string line;
  if (!h.tag.empty()) line += "Tag=" + h.tag + ",";
  line += format_fixed(3, static_cast<double>(h.start_time_ms - base_time_ms) / 1000.0) + ",";
  line += format_fixed(3, static_cast<double>(h.end_time_ms - h.start_time_ms) / 1000.0) + ",";
  line += format_fixed(3, static_cast<double>(h.max()) / max_value_unit_ratio) + ",";
  line += h.to_base64();
  line += '\n';
  return line;
}

Expected<HdrLogWriter> HdrLogWriter::create(const std::string& path, int64_t start_time_ms,
                                            int64_t base_time_ms, std::string_view comment,
                                            double max_value_unit_ratio) {
  if (!(max_value_unit_ratio > 0)) return Error{path + ": max value unit ratio must be > 0"};
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error{path + ": cannot create the histogram log"};
  out << hdr_log_header(start_time_ms, base_time_ms, comment);
  out.flush();
  if (!out) return Error{path + ": write failed"};
  return HdrLogWriter(path, std::move(out), base_time_ms, max_value_unit_ratio);
}

std::optional<Error> HdrLogWriter::write(const HdrHistogram& interval) {
  auto line = hdr_log_interval_line(interval, base_time_ms_, ratio_);
  if (!line.ok()) return Error{path_ + ": " + line.error()};
  out_ << line.value();
  out_.flush();
  if (!out_) return Error{path_ + ": write failed"};
  return std::nullopt;
}

Expected<HdrLog> parse_hdr_log(std::string_view text, std::string_view source,
                               int64_t max_counts_len) {
  HdrLog log;
  bool base_resolved = false;
  double base_sec = 0;
  int line_no = 0;
  auto fail = [&](const std::string& what) {
    return Error{std::string(source) + ":" + std::to_string(line_no) + ": " + what};
  };
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.rfind("#[StartTime:", 0) == 0) {
      auto v = number_after(line, "#[StartTime:");
      if (!v) return fail("StartTime is not a number");
      log.start_time_sec = *v;
      continue;
    }
    if (line.rfind("#[BaseTime:", 0) == 0) {
      auto v = number_after(line, "#[BaseTime:");
      if (!v) return fail("BaseTime is not a number");
      log.base_time_sec = *v;
      continue;
    }
    if (line.front() == '#' || line.rfind("\"StartTimestamp\"", 0) == 0) continue;

    std::string tag;
    if (line.rfind("Tag=", 0) == 0) {
      size_t comma = line.find(',');
      if (comma == std::string_view::npos) return fail("Tag= without the fields that follow");
      tag = std::string(line.substr(4, comma - 4));
      if (!hdr_log_tag_valid(tag)) return fail("empty or invalid tag");
      line.remove_prefix(comma + 1);
    }
    std::string_view fields[4];
    for (int i = 0; i < 4; ++i) {
      size_t comma = i < 3 ? line.find(',') : std::string_view::npos;
      if (i < 3 && comma == std::string_view::npos)
        return fail("interval line has " + std::to_string(i + 1) +
                    " fields, expected start,length,max,histogram");
      fields[i] = line.substr(0, comma);
      if (i < 3) line.remove_prefix(comma + 1);
    }
    if (fields[3].find(',') != std::string_view::npos)
      return fail("interval line has more than 4 fields");
    auto start = parse_double(fields[0]);
    auto length = parse_double(fields[1]);
    if (!start) return fail("interval start '" + std::string(fields[0]) + "' is not a number");
    if (!length || *length < 0)
      return fail("interval length '" + std::string(fields[1]) + "' is not a number >= 0");
    if (!parse_double(fields[2]))
      return fail("interval max '" + std::string(fields[2]) + "' is not a number");
    auto hist = HdrHistogram::from_base64(fields[3], max_counts_len);
    if (!hist.ok()) return fail(hist.error());
    if (!base_resolved) {
      if (log.base_time_sec)
        base_sec = *log.base_time_sec;
      else if (log.start_time_sec && *start < *log.start_time_sec - kSecondsPerYear)
        base_sec = *log.start_time_sec;
      base_resolved = true;
    }
    double start_ms = std::round((base_sec + *start) * 1000.0);
    double end_ms = std::round((base_sec + *start + *length) * 1000.0);
    if (std::fabs(start_ms) > 9e15 || std::fabs(end_ms) > 9e15)
      return fail("interval time out of range");
    HdrHistogram& h = hist.value();
    h.start_time_ms = static_cast<int64_t>(start_ms);
    h.end_time_ms = static_cast<int64_t>(end_ms);
    h.tag = std::move(tag);
    log.intervals.push_back(std::move(h));
  }
  return log;
}

Expected<HdrLog> read_hdr_log_file(const std::string& path, int64_t max_counts_len,
                                   int64_t max_file_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open the histogram log"};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return Error{path + ": cannot read the histogram log"};
  if (size > max_file_bytes)
    return Error{path + ": " + std::to_string(size) + " bytes, larger than the limit of " +
                 std::to_string(max_file_bytes)};
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) return Error{path + ": read failed"};
  return parse_hdr_log(text, path, max_counts_len);
}

}  // namespace llmload
