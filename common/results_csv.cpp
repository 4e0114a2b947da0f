#include "common/results_csv.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/number_format.h"

namespace llmload {
namespace {

std::string format_optional(const std::optional<double>& v) {
  return v ? format_round_trip(*v) : std::string();
}

std::string format_optional_us(const std::optional<int64_t>& us) {
  return us ? format_us_as_ms(*us) : std::string();
}

void append_fields(std::string& line, std::initializer_list<std::string_view> fields) {
  bool first = true;
  for (auto f : fields) {
    if (!first) line += ',';
    first = false;
    line += csv_escape(f);
  }
  line += '\n';
}

void summary_rows(std::string& out, std::string_view group, const GroupStats& stats) {
  // The request counts first (unit "requests", the number in `count`, no statistics), so the
  // identity requests = ok + failed + client_cancelled can be checked from this file alone.
  const Counters& c = stats.counters;
  const std::pair<std::string_view, int64_t> counts[] = {{"requests", c.requests},
                                                         {"ok", c.ok},
                                                         {"failed", c.failed},
                                                         {"client_cancelled", c.client_cancelled}};
  for (const auto& [name, n] : counts)
    append_fields(out,
                  {group, name, "requests", std::to_string(n), "", "", "", "", "", "", "", "", ""});
  for (const MetricSummary& s : summarize_all(stats)) {
    append_fields(out,
                  {group, s.name, s.unit, std::to_string(s.count), format_round_trip(s.min),
                   format_round_trip(s.mean), format_round_trip(s.stddev), format_round_trip(s.p50),
                   format_round_trip(s.p90), format_round_trip(s.p95), format_round_trip(s.p99),
                   format_round_trip(s.p999), format_round_trip(s.max)});
  }
}

}  // namespace

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

Expected<std::vector<std::string>> csv_split(std::string_view line) {
  std::vector<std::string> fields;
  std::string cur;
  std::size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return Error{"unterminated quoted field"};
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur += line[i++];
      }
      if (i < line.size() && line[i] != ',') return Error{"text after a closing quote"};
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return Error{"quote inside an unquoted field"};
        cur += line[i++];
      }
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

std::string summary_csv(const RunResult& result) {
  std::string out = "group,metric,unit,count,min,mean,stddev,p50,p90,p95,p99,p999,max\n";
  summary_rows(out, "total", result.total);
  for (const auto& g : result.groups) summary_rows(out, group_key(g.stats.labels), g.stats);
  return out;
}

Expected<std::string> write_summary_csv(const RunResult& result, const std::string& path) {
  return write_file_atomic(path, summary_csv(result));
}

std::string_view timeseries_csv_header() {
  return "elapsed_s,interval_s,requests,ok,failed,in_flight,requests_per_s,output_tokens_per_s,"
         "ttft_p50_ms,ttft_p99_ms,errors,client_cancelled\n";
}

std::string timeseries_csv_row(const IntervalRow& r) {
  std::string line;
  append_fields(line, {format_round_trip(r.elapsed_s), format_round_trip(r.interval_s),
                       std::to_string(r.requests), std::to_string(r.ok), std::to_string(r.failed),
                       std::to_string(r.in_flight), format_round_trip(r.requests_per_s),
                       format_round_trip(r.output_tokens_per_s), format_optional(r.ttft_p50_ms),
                       format_optional(r.ttft_p99_ms), std::to_string(r.errors),
                       std::to_string(r.client_cancelled)});
  return line;
}

std::string timeseries_csv(const std::vector<IntervalRow>& rows) {
  std::set<std::string> series;
  for (const auto& r : rows)
    for (const auto& [name, v] : r.target) series.insert(name);
  if (series.empty()) {
    std::string out(timeseries_csv_header());
    for (const auto& r : rows) out += timeseries_csv_row(r);
    return out;
  }
  // The target's series follow the fixed columns, one column each, empty where not scraped.
  std::string out(timeseries_csv_header());
  out.pop_back();
  for (const auto& name : series) out += "," + csv_escape(name);
  out += '\n';
  for (const auto& r : rows) {
    std::string line = timeseries_csv_row(r);
    line.pop_back();
    for (const auto& name : series) {
      auto it = r.target.find(name);
      line += ',';
      if (it != r.target.end()) line += format_round_trip(it->second);
    }
    out += line + '\n';
  }
  return out;
}

Expected<std::vector<CsvRecord>> csv_records(std::string_view text, const std::string& source) {
  std::vector<CsvRecord> records;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    auto fields = csv_split(line);
    if (!fields) return Error{source + ":" + std::to_string(line_no) + ": " + fields.error()};
    records.push_back(CsvRecord{line_no, std::move(fields.value())});
  }
  return records;
}

namespace {
// The fixed columns; any other is a target series.
const std::set<std::string, std::less<>> kTimeseriesColumns = {
    "elapsed_s",      "interval_s",          "requests",    "ok",          "failed", "in_flight",
    "requests_per_s", "output_tokens_per_s", "ttft_p50_ms", "ttft_p99_ms", "errors",
    "client_cancelled"};
}  // namespace

Expected<std::vector<IntervalRow>> parse_timeseries_csv(const std::string& text,
                                                        const std::string& source) {
  auto records = csv_records(text, source);
  if (!records) return Error{records.error()};
  std::vector<IntervalRow> rows;
  std::map<std::string, size_t> col;
  for (const CsvRecord& rec : *records) {
    const std::vector<std::string>& fields = rec.fields;
    if (rec.line_no == 1) {
      for (size_t i = 0; i < fields.size(); ++i) col[fields[i]] = i;
      for (const char* need : {"elapsed_s", "requests_per_s", "output_tokens_per_s"})
        if (!col.count(need)) return Error{source + ":1: no column '" + need + "'"};
      continue;
    }
    auto get = [&](const char* name) -> std::optional<double> {
      auto it = col.find(name);
      if (it == col.end() || it->second >= fields.size() || fields[it->second].empty())
        return std::nullopt;
      return std::strtod(fields[it->second].c_str(), nullptr);
    };
    IntervalRow r;
    r.elapsed_s = get("elapsed_s").value_or(0);
    r.interval_s = get("interval_s").value_or(0);
    r.requests = int64_t(get("requests").value_or(0));
    r.ok = int64_t(get("ok").value_or(0));
    r.failed = int64_t(get("failed").value_or(0));
    r.in_flight = int64_t(get("in_flight").value_or(0));
    r.requests_per_s = get("requests_per_s").value_or(0);
    r.output_tokens_per_s = get("output_tokens_per_s").value_or(0);
    r.ttft_p50_ms = get("ttft_p50_ms");
    r.ttft_p99_ms = get("ttft_p99_ms");
    r.errors = int64_t(get("errors").value_or(0));
    r.client_cancelled = int64_t(get("client_cancelled").value_or(0));  // absent in older files
    for (const auto& [name, i] : col) {
      if (kTimeseriesColumns.count(name) || i >= fields.size() || fields[i].empty()) continue;
      r.target[name] = std::strtod(fields[i].c_str(), nullptr);
    }
    rows.push_back(r);
  }
  return rows;
}

std::string_view name(TokensSource s) {
  switch (s) {
    case TokensSource::kUsage:
      return "usage";
    case TokensSource::kCounted:
      return "counted";
    case TokensSource::kTokenizer:
      return "tokenizer";
  }
  return "counted";
}

std::optional<TokensSource> parse_tokens_source(std::string_view s) {
  for (TokensSource t : {TokensSource::kUsage, TokensSource::kCounted, TokensSource::kTokenizer})
    if (s == name(t)) return t;
  return std::nullopt;
}

std::string format_us_as_ms(int64_t us) {
  // Integer arithmetic: exact µs digits, no binary floating-point noise ("12.345", "-0.001").
  std::string out = us < 0 ? "-" : "";
  uint64_t mag = us < 0 ? uint64_t(0) - static_cast<uint64_t>(us) : static_cast<uint64_t>(us);
  out += std::to_string(mag / 1000);
  char frac[5];
  std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(mag % 1000));
  out += frac;
  return out;
}

std::string_view requests_csv_header() {
  return "request_id,worker,group,prompt,sent_unix_ns,start_ms,queue_ms,wait_ms,connect_ms,tls_ms,"
         "ttfb_ms,ttft_ms,ttfo_ms,e2e_ms,output_tokens,tokens_source,outcome,server_load_ms,"
         "server_prompt_tokens,server_prompt_eval_ms,server_output_tokens,server_eval_ms,"
         "server_total_ms,server_cached_tokens,server_prompt_tokens_per_s,"
         "server_eval_tokens_per_s,server_wait_ms,input_tokens,error_message\n";
}

std::string_view request_outcome(const RequestRow& r) {
  if (r.error) return name(*r.error);
  return r.client_cancelled ? "client_cancelled" : "ok";
}

std::string requests_csv_row(const RequestRow& r) {
  std::string line;
  append_fields(
      line,
      {r.request_id, r.worker, r.group, r.prompt >= 0 ? std::to_string(r.prompt) : std::string(),
       r.sent_unix_ns ? std::to_string(*r.sent_unix_ns) : std::string(),
       format_us_as_ms(r.start_us), format_optional_us(r.queue_us), format_optional_us(r.wait_us),
       format_optional_us(r.connect_us), format_optional_us(r.tls_us),
       format_optional_us(r.ttfb_us), format_optional_us(r.ttft_us), format_optional_us(r.ttfo_us),
       format_optional_us(r.e2e_us), std::to_string(r.output_tokens), name(r.tokens_source),
       request_outcome(r)});
  line.back() = ',';  // not the end yet: the server's columns follow
  const ServerFigures& sv = r.server;
  auto count = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string();
  };
  auto rate = [](const std::optional<double>& v) {
    return v ? format_number("%.3f", *v) : std::string();
  };
  append_fields(line, {format_optional_us(sv.load_us), count(sv.prompt_tokens),
                       format_optional_us(sv.prompt_eval_us), count(sv.output_tokens),
                       format_optional_us(sv.eval_us), format_optional_us(sv.total_us),
                       count(sv.cached_tokens), rate(sv.prompt_tokens_per_s()),
                       rate(sv.eval_tokens_per_s()), format_optional_us(sv.wait_us),
                       count(r.input_tokens), r.error_message});
  return line;
}

// --- AppendingCsvWriter ----------------------------------------------------------------------

void AppendingCsvWriter::FileCloser::operator()(std::FILE* f) const {
  if (f) std::fclose(f);
}

Expected<AppendingCsvWriter> AppendingCsvWriter::create(const std::string& path,
                                                        std::string_view header) {
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (!f) return Error{path + ": cannot create: " + std::strerror(errno)};
  AppendingCsvWriter w(path, f);
  w.append_line(header);
  auto flushed = w.flush();
  if (!flushed) return Error{flushed.error()};
  return w;
}

AppendingCsvWriter::~AppendingCsvWriter() {
  if (file_) (void)flush();
}

void AppendingCsvWriter::append_line(std::string_view line) {
  buffer_.append(line);
}

Expected<std::string> AppendingCsvWriter::flush() {
  if (!file_) return Error{path_ + ": already closed"};
  if (!buffer_.empty()) {
    std::size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), file_.get());
    if (n != buffer_.size()) {
      buffer_.erase(0, n);
      return Error{path_ + ": write failed: " + std::strerror(errno)};
    }
    buffer_.clear();
  }
  if (std::fflush(file_.get()) != 0)
    return Error{path_ + ": flush failed: " + std::strerror(errno)};
  return path_;
}

Expected<std::string> AppendingCsvWriter::close() {
  auto flushed = flush();
  if (!file_) return flushed;
  std::FILE* f = file_.release();
  if (std::fclose(f) != 0 && flushed) {
    return Error{path_ + ": close failed: " + std::strerror(errno)};
  }
  return flushed;
}

}  // namespace llmload
