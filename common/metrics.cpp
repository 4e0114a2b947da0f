#include "common/metrics.h"

namespace llmload {
namespace {

constexpr std::array<std::string_view, kMetricCount> kMetricNames = {
    "ttft",     "ttfo",       "ttfb",          "itl",          "tpot",
    "e2e",      "connect",    "tls",           "queue",        "ttft_sent",
    "e2e_sent", "decode_tps", "output_tokens", "input_tokens", "wait"};

constexpr std::array<std::string_view, kErrorKindCount> kErrorKindNames = {
    "connect_refused", "connect_timeout", "dns",          "tls",          "http_4xx",
    "http_429",        "http_5xx",        "ttft_timeout", "idle_timeout", "total_timeout",
    "reset",           "truncated",       "protocol",     "server_error", "cancelled"};

constexpr MetricUnits kTimeUnits{"ms", "us", true};
constexpr MetricUnits kTokenUnits{"tokens", "tokens", false};
constexpr MetricUnits kRateUnits{"tokens/s", "tokens/s", false};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view name(Metric m) {
  return kMetricNames[static_cast<std::size_t>(m)];
}

bool is_time(Metric m) {
  switch (m) {
    case Metric::kDecodeTps:
    case Metric::kOutputTokens:
    case Metric::kInputTokens:
      return false;
    default:
      return true;
  }
}

MetricUnits units_of(Metric m) {
  if (is_time(m)) return kTimeUnits;
  return m == Metric::kDecodeTps ? kRateUnits : kTokenUnits;
}

std::string_view unit(Metric m) {
  return units_of(m).unit;
}
std::string_view hdr_unit(Metric m) {
  return units_of(m).hdr_unit;
}

std::optional<Metric> parse_metric(std::string_view text) {
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    if (kMetricNames[i] == text) return static_cast<Metric>(i);
  }
  return std::nullopt;
}

bool is_server_metric_name(std::string_view text) {
  constexpr std::string_view kPrefix = "server.";
  if (text.size() <= kPrefix.size() || text.size() > kMaxServerMetricNameLength) return false;
  if (text.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : text.substr(kPrefix.size())) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<MetricUnits> units_of_name(std::string_view text) {
  if (auto m = parse_metric(text)) return units_of(*m);
  if (!is_server_metric_name(text)) return std::nullopt;
  if (ends_with(text, "_ms")) return kTimeUnits;
  if (ends_with(text, "_per_s")) return kRateUnits;
  return kTokenUnits;
}

HdrHistogram make_histogram(const MetricUnits& units) {
  if (units.is_time) return HdrHistogram::for_micros();
  return HdrHistogram(1, kCountHistogramHighest, kHistogramDigits);
}

HdrHistogram make_histogram(Metric m) {
  return make_histogram(units_of(m));
}

bool has_expected_settings(const HdrHistogram& h, const MetricUnits& units) {
  // Compared against the constructed settings rather than constants, so this stays right if
  // for_micros() is ever retuned.
  static const HdrHistogram kMicros = HdrHistogram::for_micros();
  if (units.is_time) {
    return h.lowest_discernible() == kMicros.lowest_discernible() &&
           h.highest_trackable() == kMicros.highest_trackable() &&
           h.significant_digits() == kMicros.significant_digits();
  }
  return h.lowest_discernible() == 1 && h.highest_trackable() == kCountHistogramHighest &&
         h.significant_digits() == kHistogramDigits;
}

std::string_view name(ErrorKind k) {
  return kErrorKindNames[static_cast<std::size_t>(k)];
}

std::optional<ErrorKind> parse_error_kind(std::string_view text) {
  for (std::size_t i = 0; i < kErrorKindCount; ++i) {
    if (kErrorKindNames[i] == text) return static_cast<ErrorKind>(i);
  }
  return std::nullopt;
}

}  // namespace llmload
