// CSV outputs (RFC 4180: comma-separated, CRLF-free "\n" line ends, fields quoted when they
// hold a comma, quote, CR or LF, quotes doubled). Columns and units: docs/results.md.
//   summary.csv     one row per group and metric, the "total" group first (written at the end)
//   timeseries.csv  one row per interval (appended during the run, flushed every interval)
//   requests.csv    one row per measured request (--requests-csv; appended, flushed every
//                   interval)
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/metrics.h"
#include "common/results.h"
#include "common/server_figures.h"

namespace llmload {

std::string csv_escape(std::string_view field);
// Splits one CSV record (no line end) back into fields; the inverse of joining escaped fields.
Expected<std::vector<std::string>> csv_split(std::string_view line);
// CSV text split into records, one per "\n"-ended line (empty lines skipped); line_no counts
// from 1. Errors name source:line.
struct CsvRecord {
  size_t line_no = 0;
  std::vector<std::string> fields;
};
Expected<std::vector<CsvRecord>> csv_records(std::string_view text, const std::string& source);

// --- summary.csv -----------------------------------------------------------------------------
// Header: group,metric,unit,count,min,mean,stddev,p50,p90,p95,p99,p999,max
// `group` is "total" for the whole run, else group_key(labels).
std::string summary_csv(const RunResult& result);
Expected<std::string> write_summary_csv(const RunResult& result, const std::string& path);

// --- timeseries.csv --------------------------------------------------------------------------
// Header: elapsed_s,interval_s,requests,ok,failed,in_flight,requests_per_s,output_tokens_per_s,
//         ttft_p50_ms,ttft_p99_ms,errors
std::string_view timeseries_csv_header();  // with its "\n"
std::string timeseries_csv_row(const IntervalRow& row);
// The whole file; when rows carry target series (IntervalRow::target), one more column per
// series, named as the series and sorted, after the fixed ones (empty where not scraped).
std::string timeseries_csv(const std::vector<IntervalRow>& rows);
// Reads timeseries.csv text (header + rows) back: timeseries_csv's inverse. Columns are found by
// name (elapsed_s, requests_per_s and output_tokens_per_s are required); a missing optional
// column reads as 0 (ttft_*: nullopt); any other column is a target series. Errors name
// source:line.
Expected<std::vector<IntervalRow>> parse_timeseries_csv(const std::string& text,
                                                        const std::string& source);

// --- requests.csv ----------------------------------------------------------------------------
// Where a request's output_tokens came from: the server's usage, counted chunks, or the
// scenario's tokenizer over the streamed text (prompts.tokenizer, no usage).
enum class TokensSource : uint8_t { kUsage, kCounted, kTokenizer };
std::string_view name(TokensSource s);  // "usage", "counted", "tokenizer"
// The value of a name(); nullopt for any other text.
std::optional<TokensSource> parse_tokens_source(std::string_view s);

// One measured request. Times are whole microseconds since the request's start (start_us: since
// the measured window began), written as ms with µs precision ("12.345"); nullopt = not
// reached (an empty field). sent_unix_ns is the one absolute instant: it joins a row with a
// server's own log.
// A request row's error_message is cut to this many bytes (UTF-8 safe), as error samples are.
inline constexpr std::size_t kRowMessageBytes = GroupStats::kMaxSampleBytes;

struct RequestRow {
  std::string request_id;  // x-request-id header, else the stream's id, else empty
  std::string worker;      // worker id
  std::string group;       // group_key(labels)
  int64_t prompt = -1;     // index in the run's prompt list; -1 → empty field
  // CLOCK_REALTIME ns at which its first byte was written (the monotonic send stamp converted
  // with mono_to_unix_ns); nullopt when never written.
  std::optional<int64_t> sent_unix_ns;
  int64_t start_us = 0;
  std::optional<int64_t> queue_us;  // rate mode: its intended start → its first byte written
  std::optional<int64_t> wait_us;  // its scheduler's start → its first byte written (not in ttfb)
  std::optional<int64_t> connect_us, tls_us, ttfb_us, ttft_us, ttfo_us, e2e_us;
  int64_t output_tokens = 0;
  TokensSource tokens_source = TokensSource::kCounted;
  std::optional<ErrorKind> error;  // nullopt → outcome "ok" (or "client_cancelled", below)
  bool client_cancelled = false;   // closed by the client on purpose (scenario `cancel:`)
  ServerFigures server;            // what the server reported (ok requests), empty fields if not
  std::optional<int64_t> input_tokens;  // the server's prompt_tokens (usage), when it said
  std::string error_message;            // a failed request's message (at most 512 bytes)
};
// Header:
// request_id,worker,group,prompt,sent_unix_ns,start_ms,queue_ms,wait_ms,connect_ms,tls_ms,ttfb_ms,
//         ttft_ms,ttfo_ms,e2e_ms,output_tokens,tokens_source,outcome,
//         server_load_ms,server_prompt_tokens,server_prompt_eval_ms,server_output_tokens,
//         server_eval_ms,server_total_ms,server_cached_tokens,server_prompt_tokens_per_s,
//         server_eval_tokens_per_s,server_wait_ms,input_tokens,error_message
std::string_view requests_csv_header();  // with its "\n"
// The `outcome` column: "ok", "client_cancelled" or the error kind.
std::string_view request_outcome(const RequestRow& row);
std::string requests_csv_row(const RequestRow& row);
// "12.345" from 12345 µs; "-0.001" style for negatives.
std::string format_us_as_ms(int64_t us);

// An append-only CSV file: the header on creation, rows buffered, flush() writes them out and
// fflush()es (call it every interval, so a crash loses at most one interval).
class AppendingCsvWriter {
 public:
  // Creates (truncates) `path` and writes `header`.
  static Expected<AppendingCsvWriter> create(const std::string& path, std::string_view header);
  AppendingCsvWriter(AppendingCsvWriter&&) noexcept = default;
  AppendingCsvWriter& operator=(AppendingCsvWriter&&) noexcept = default;
  ~AppendingCsvWriter();

  void append_line(std::string_view line);  // one record with its "\n"
  void append(const RequestRow& row) { append_line(requests_csv_row(row)); }
  void append(const IntervalRow& row) { append_line(timeseries_csv_row(row)); }
  // Writes buffered rows and flushes; the error names the path.
  Expected<std::string> flush();
  Expected<std::string> close();
  const std::string& path() const { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  AppendingCsvWriter(std::string path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string buffer_;
};

}  // namespace llmload
