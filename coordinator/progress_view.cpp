#include "coordinator/progress_view.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

namespace llmload::coord {

const char* ProgressSample::phase() const {
  if (elapsed_s < 0) return "warmup";
  if (total_s > 0 && elapsed_s > total_s + 1e-3) return "grace";
  return "measured";
}

bool ProgressSample::partial() const {
  return report_interval_s > 0 && interval_s > 0 && interval_s < report_interval_s * 0.99;
}

ProgressMode ProgressView::choose(bool json, bool quiet, std::FILE* out) {
  if (quiet) return ProgressMode::kQuiet;
  if (json) return ProgressMode::kJson;
  return ::isatty(::fileno(out)) ? ProgressMode::kTerminal : ProgressMode::kPlain;
}

std::string ProgressView::line(const ProgressSample& s, bool with_bar) {
  char buf[256];
  std::string out;
  double frac = -1;
  if (s.total_s > 0)
    frac = std::clamp(s.elapsed_s / s.total_s, 0.0, 1.0);
  else if (s.requests_total > 0)
    frac = std::clamp(double(s.requests_done) / double(s.requests_total), 0.0, 1.0);
  if (with_bar && frac >= 0) {
    constexpr int kWidth = 16;
    int filled = static_cast<int>(std::lround(frac * kWidth));
    out += "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
  }
  const std::string_view phase = s.phase();
  if (phase == "warmup") {
    std::snprintf(buf, sizeof buf, "warmup %3.0fs", -s.elapsed_s);
  } else if (phase == "grace") {
    std::snprintf(buf, sizeof buf, "%.0fs/%.0fs grace +%.0fs", s.total_s, s.total_s,
                  s.elapsed_s - s.total_s);
  } else if (s.total_s > 0) {
    std::snprintf(buf, sizeof buf, "%5.0fs/%.0fs", s.elapsed_s, s.total_s);
  } else if (s.requests_total > 0) {
    std::snprintf(buf, sizeof buf, "%5.0fs %lld/%lld req", s.elapsed_s,
                  static_cast<long long>(s.requests_done),
                  static_cast<long long>(s.requests_total));
  } else {
    std::snprintf(buf, sizeof buf, "%5.0fs", s.elapsed_s);
  }
  out += buf;
  auto ms = [](const std::optional<double>& v) {
    char b[32];
    if (!v) return std::string("-");
    std::snprintf(b, sizeof b, "%.0f", *v);
    return std::string(b);
  };
  std::snprintf(buf, sizeof buf,
                " | %.1f req/s | %.0f tok/s | in-flight %lld | ttft p50/p99 %s/%s ms | errors %lld"
                " | workers %d/%d",
                s.requests_per_s, s.output_tokens_per_s, static_cast<long long>(s.in_flight),
                ms(s.ttft_p50_ms).c_str(), ms(s.ttft_p99_ms).c_str(),
                static_cast<long long>(s.errors), s.workers_alive, s.workers_total);
  out += buf;
  if (s.client_cancelled > 0) {  // only a run with cancel: has any; other lines stay as they were
    std::snprintf(buf, sizeof buf, " | client-cancelled %lld",
                  static_cast<long long>(s.client_cancelled));
    out += buf;
  }
  if (s.partial()) {
    std::snprintf(buf, sizeof buf, " | partial %.2fs", s.interval_s);
    out += buf;
  }
  return out;
}

std::string ProgressView::json_line(const ProgressSample& s) {
  nlohmann::json j = {
      {"elapsed_s", s.elapsed_s},
      {"total_s", s.total_s},
      {"requests", s.requests_done},
      {"requests_per_s", s.requests_per_s},
      {"output_tokens_per_s", s.output_tokens_per_s},
      {"in_flight", s.in_flight},
      {"ttft_p50_ms", s.ttft_p50_ms ? nlohmann::json(*s.ttft_p50_ms) : nlohmann::json()},
      {"ttft_p99_ms", s.ttft_p99_ms ? nlohmann::json(*s.ttft_p99_ms) : nlohmann::json()},
      {"errors", s.errors},
      {"client_cancelled", s.client_cancelled},
      {"workers_alive", s.workers_alive},
      {"workers", s.workers_total},
      {"phase", s.phase()},
      {"interval_s", s.interval_s},
      {"partial", s.partial()}};
  return j.dump();
}

void ProgressView::print(const ProgressSample& s) {
  switch (mode_) {
    case ProgressMode::kQuiet:
      return;
    case ProgressMode::kJson:
      std::fprintf(out_, "%s\n", json_line(s).c_str());
      break;
    case ProgressMode::kPlain:
      std::fprintf(out_, "%s\n", line(s, false).c_str());
      break;
    case ProgressMode::kTerminal:
      std::fprintf(out_, "\r\033[K%s", line(s, true).c_str());
      dirty_ = true;
      break;
  }
  std::fflush(out_);
}

void ProgressView::finish() {
  if (dirty_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    dirty_ = false;
  }
}

}  // namespace llmload::coord
