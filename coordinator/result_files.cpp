#include "coordinator/result_files.h"

#include <algorithm>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/clock.h"
#include "common/requests_jsonl.h"
#include "common/results_json.h"

namespace llmload::coord {

Expected<ResultFiles> ResultFiles::open(const std::string& dir, bool requests_csv,
                                        const std::string& requests_jsonl) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{dir + ": cannot create the results directory: " + ec.message()};
  auto ts = AppendingCsvWriter::create(dir + "/timeseries.csv", timeseries_csv_header());
  if (!ts) return Error{ts.error()};
  std::optional<AppendingCsvWriter> req;
  if (requests_csv) {
    auto r = AppendingCsvWriter::create(dir + "/requests.csv", requests_csv_header());
    if (!r) return Error{r.error()};
    req.emplace(std::move(r.value()));
  }
  std::optional<AppendingCsvWriter> jsonl;
  if (!requests_jsonl.empty()) {
    auto j = AppendingCsvWriter::create(requests_jsonl, "");
    if (!j) return Error{j.error()};
    jsonl.emplace(std::move(j.value()));
  }
  const int64_t mono_to_wall_ns = wall_now_ns() - mono_now_ns();
  const int64_t now_ms = (mono_now_ns() + mono_to_wall_ns) / 1'000'000;
  auto hlog = HdrLogWriter::create(dir + "/histograms.hlog", now_ms, now_ms,
                                   "llmload interval histograms: times in us, max in ms");
  if (!hlog) return Error{hlog.error()};
  return ResultFiles(dir, std::move(ts.value()), std::move(req), std::move(jsonl),
                     std::move(hlog.value()), mono_to_wall_ns, now_ms);
}

namespace {

// A group key as an hlog tag part: no commas, no whitespace.
std::string tag_safe(const std::string& key) {
  std::string out = key;
  for (char& c : out)
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') c = '_';
  return out;
}

}  // namespace

void ResultFiles::write_histograms(const GroupStats& g, const std::string& suffix, int64_t start_ms,
                                   int64_t end_ms) {
  for (Metric m : kAllMetrics) {
    const HdrHistogram* h = g.histogram(m);
    if (!h || h->total_count() == 0) continue;
    HdrHistogram copy = *h;
    copy.tag = std::string(name(m)) + suffix;
    copy.start_time_ms = start_ms;
    copy.end_time_ms = end_ms;
    if (auto e = hlog_.write(copy); e && !hlog_error_) hlog_error_ = e;
  }
}

void ResultFiles::append_histograms(const GroupStats& total,
                                    const std::map<std::string, GroupStats>& groups,
                                    int64_t start_mono_ns, int64_t end_mono_ns) {
  // Never before the log's BaseTime (a worker clock offset estimate can be a little off).
  const int64_t start_ms = std::max(base_ms_, (start_mono_ns + mono_to_wall_ns_) / 1'000'000);
  const int64_t end_ms = std::max(start_ms, (end_mono_ns + mono_to_wall_ns_) / 1'000'000);
  write_histograms(total, "", start_ms, end_ms);
  for (const auto& [key, g] : groups) write_histograms(g, "." + tag_safe(key), start_ms, end_ms);
}

void ResultFiles::append_interval(const IntervalRow& row) {
  timeseries_.append(row);
}

void ResultFiles::append_requests(const std::vector<RequestRow>& rows,
                                  const std::map<std::string, GroupStats>& groups) {
  if (requests_)
    for (const auto& r : rows) requests_->append(r);
  if (jsonl_) {
    static const Labels kNone;
    for (const auto& r : rows) {
      auto g = groups.find(r.group);
      jsonl_->append_line(requests_jsonl_line(r, g != groups.end() ? g->second.labels : kNone));
    }
  }
}

Expected<bool> ResultFiles::flush() {
  if (auto f = timeseries_.flush(); !f) return Error{f.error()};
  if (hlog_error_) return Error{*hlog_error_};
  if (requests_) {
    if (auto f = requests_->flush(); !f) return Error{f.error()};
  }
  if (jsonl_) {
    if (auto f = jsonl_->flush(); !f) return Error{f.error()};
  }
  return true;
}

Expected<bool> ResultFiles::finish(const RunResult& result) {
  std::string problems;
  if (auto f = timeseries_.close(); !f) problems += f.error() + "\n";
  // The target's series are known only now: the file is rewritten whole with their columns.
  const bool target_columns = std::any_of(result.intervals.begin(), result.intervals.end(),
                                          [](const IntervalRow& r) { return !r.target.empty(); });
  if (target_columns) {
    if (auto w = write_file_atomic(timeseries_.path(), timeseries_csv(result.intervals)); !w)
      problems += w.error() + "\n";
  }
  if (requests_) {
    if (auto f = requests_->close(); !f) problems += f.error() + "\n";
  }
  if (jsonl_) {
    if (auto f = jsonl_->close(); !f) problems += f.error() + "\n";
  }
  if (auto s = write_summary_json(result, dir_ + "/summary.json"); !s) problems += s.error() + "\n";
  if (auto s = write_summary_csv(result, dir_ + "/summary.csv"); !s) problems += s.error() + "\n";
  if (!problems.empty()) {
    problems.pop_back();
    return Error{problems};
  }
  return true;
}

}  // namespace llmload::coord
