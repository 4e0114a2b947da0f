#include "coordinator/result_files.h"

#include <filesystem>

#include "common/results_json.h"

namespace llmload {

Expected<ResultFiles> ResultFiles::open(const std::string& dir, bool requests_csv) {
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
  return ResultFiles(dir, std::move(ts.value()), std::move(req));
}

void ResultFiles::append_interval(const IntervalRow& row) {
  timeseries_.append(row);
}

void ResultFiles::append_requests(const std::vector<RequestRow>& rows) {
  if (!requests_) return;
  for (const auto& r : rows) requests_->append(r);
}

Expected<bool> ResultFiles::flush() {
  if (auto f = timeseries_.flush(); !f) return Error{f.error()};
  if (requests_) {
    if (auto f = requests_->flush(); !f) return Error{f.error()};
  }
  return true;
}

Expected<bool> ResultFiles::finish(const RunResult& result) {
  std::string problems;
  if (auto f = timeseries_.close(); !f) problems += f.error() + "\n";
  if (requests_) {
    if (auto f = requests_->close(); !f) problems += f.error() + "\n";
  }
  if (auto s = write_summary_json(result, dir_ + "/summary.json"); !s) problems += s.error() + "\n";
  if (auto s = write_summary_csv(result, dir_ + "/summary.csv"); !s) problems += s.error() + "\n";
  if (!problems.empty()) {
    problems.pop_back();
    return Error{problems};
  }
  return true;
}

}  // namespace llmload
