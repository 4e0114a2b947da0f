// GroupStats / IntervalSnapshot wire form (see group_stats.h). from_wire takes hostile input.
#include <array>
#include <cmath>
#include <utility>

#include "common/group_stats.h"
#include "common/json_fields.h"
#include "common/target_series.h"

namespace llmload {
namespace {

using nlohmann::json;
namespace jf = json_fields;

struct CounterField {
  std::string_view name;
  int64_t Counters::*field;
};
constexpr std::array<CounterField, 11> kCounterFields = {{
    {"requests", &Counters::requests},
    {"ok", &Counters::ok},
    {"failed", &Counters::failed},
    {"retries", &Counters::retries},
    {"input_tokens", &Counters::input_tokens},
    {"output_tokens", &Counters::output_tokens},
    {"tokens_from_usage", &Counters::tokens_from_usage},
    {"tokens_counted", &Counters::tokens_counted},
    {"goodput", &Counters::goodput},
    {"dropped", &Counters::dropped},
    {"bytes_received", &Counters::bytes_received},
}};
// Server-reported counters: optional (absent = 0), so peers that never send them still decode.
constexpr std::array<CounterField, 6> kOptionalCounterFields = {{
    {"inputs", &Counters::inputs},
    {"tokens_tokenized", &Counters::tokens_tokenized},
    {"client_cancelled", &Counters::client_cancelled},
    {"tokens_mismatch", &Counters::tokens_mismatch},
    {"cached_tokens", &Counters::cached_tokens},
    {"cache_prompt_tokens", &Counters::cache_prompt_tokens},
}};
constexpr std::string_view kMismatchSamples = "tokens_mismatch";

json histogram_wire(const HdrHistogram& h, int64_t overflow) {
  std::string bytes = h.encode_compressed();
  return json{{"hdr", json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()))},
              {"overflow", overflow}};
}

// The settings checks of a histogram read from the wire, decoded or kept encoded.
void check_histogram(const std::string& hdr_path, int64_t lowest, int64_t highest, int digits,
                     int64_t total, const MetricUnits& units) {
  static const HdrHistogram kTime = make_histogram(MetricUnits{"ms", "us", true});
  static const HdrHistogram kCount = make_histogram(MetricUnits{"", "", false});
  const HdrHistogram& expected = units.is_time ? kTime : kCount;
  if (lowest != expected.lowest_discernible() || highest != expected.highest_trackable() ||
      digits != expected.significant_digits()) {
    jf::fail(hdr_path, "settings " + std::to_string(lowest) + ".." + std::to_string(highest) + "/" +
                           std::to_string(digits) + " differ from the expected " +
                           std::to_string(expected.lowest_discernible()) + ".." +
                           std::to_string(expected.highest_trackable()) + "/" +
                           std::to_string(expected.significant_digits()));
  }
  if (total < 0 || total > jf::kMaxCount) jf::fail(hdr_path, "total count out of range");
}

// Reads {"hdr": binary | base64 string, "overflow": n}: the histogram's bytes (empty for a
// base64 string, which the caller reads itself) and its overflow.
std::pair<std::string_view, int64_t> histogram_bytes(const json& v, const std::string& path) {
  jf::object(v, path);
  const json& hdr = jf::member(v, "hdr", path);
  std::string hdr_path = jf::sub(path, "hdr");
  int64_t overflow = jf::count(jf::member(v, "overflow", path), jf::sub(path, "overflow"));
  if (hdr.is_binary()) {
    const auto& b = hdr.get_binary();
    return {std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), overflow};
  }
  if (!hdr.is_string()) {
    jf::fail(hdr_path, std::string("expected binary or a base64 string, found ") + hdr.type_name());
  }
  return {std::string_view(), overflow};
}

// Decodes {"hdr": binary | base64 string, "overflow": n} and checks the settings.
std::pair<HdrHistogram, int64_t> histogram_from_wire(const json& v, const std::string& path,
                                                     const MetricUnits& units,
                                                     const WireLimits& limits) {
  auto [bytes, overflow] = histogram_bytes(v, path);
  const json& hdr = v.at("hdr");
  std::string hdr_path = jf::sub(path, "hdr");
  Expected<HdrHistogram> decoded =
      hdr.is_binary()
          ? HdrHistogram::decode(bytes, limits.max_counts_len)
          : HdrHistogram::from_base64(hdr.get_ref<const std::string&>(), limits.max_counts_len);
  if (!decoded) jf::fail(hdr_path, "not a valid histogram (" + decoded.error() + ")");
  check_histogram(hdr_path, decoded->lowest_discernible(), decoded->highest_trackable(),
                  decoded->significant_digits(), decoded->total_count(), units);
  return {std::move(decoded).value(), overflow};
}

// The same checks as histogram_from_wire, the histogram kept as its (plain) encoding.
std::pair<HdrHistogram::Checked, int64_t> histogram_checked_from_wire(const json& v,
                                                                      const std::string& path,
                                                                      const MetricUnits& units,
                                                                      const WireLimits& limits) {
  auto [bytes, overflow] = histogram_bytes(v, path);
  const json& hdr = v.at("hdr");
  std::string hdr_path = jf::sub(path, "hdr");
  Expected<HdrHistogram::Checked> checked = Error{""};
  if (hdr.is_binary()) {
    checked = HdrHistogram::check_encoded(bytes, limits.max_counts_len);
  } else {
    // Base64 text (rare: hand-written or foreign peers): decoded, then re-encoded plain.
    auto decoded =
        HdrHistogram::from_base64(hdr.get_ref<const std::string&>(), limits.max_counts_len);
    if (decoded) {
      checked = HdrHistogram::check_encoded(decoded->encode(), limits.max_counts_len);
    } else {
      checked = Error{decoded.error()};
    }
  }
  if (!checked) jf::fail(hdr_path, "not a valid histogram (" + checked.error() + ")");
  check_histogram(hdr_path, checked->lowest_discernible, checked->highest_trackable,
                  checked->significant_digits, checked->total_count, units);
  return {std::move(checked).value(), overflow};
}

Counters counters_from_wire(const json& v, const std::string& path) {
  jf::object(v, path);
  Counters c;
  for (const auto& f : kCounterFields) {
    c.*(f.field) = jf::count(jf::member(v, f.name, path), jf::sub(path, f.name));
  }
  for (const auto& f : kOptionalCounterFields) {
    if (const json* m = jf::optional_member(v, f.name)) {
      c.*(f.field) = jf::count(*m, jf::sub(path, f.name));
    }
  }
  if (c.tokens_mismatch > c.ok) jf::fail(jf::sub(path, "tokens_mismatch"), "greater than ok");
  if (c.cached_tokens > c.cache_prompt_tokens)
    jf::fail(jf::sub(path, "cached_tokens"), "greater than cache_prompt_tokens");
  std::string errors_path = jf::sub(path, "errors");
  const json& errors = jf::object(jf::member(v, "errors", path), errors_path);
  int64_t error_sum = 0;
  for (const auto& [k, n] : errors.items()) {
    auto kind = parse_error_kind(k);
    std::string p = jf::sub(errors_path, k);
    if (!kind) jf::fail(p, "unknown error kind");
    int64_t count = jf::count(n, p);
    c.errors[static_cast<std::size_t>(*kind)] = count;
    error_sum += count;
  }
  if (c.requests != c.ok + c.failed + c.client_cancelled)
    jf::fail(path, "requests is not ok + failed + client_cancelled");
  if (error_sum != c.failed) jf::fail(errors_path, "the error counts do not add up to failed");
  if (c.goodput > c.ok) jf::fail(jf::sub(path, "goodput"), "greater than ok");
  return c;
}

Labels labels_from_wire(const json& v, const std::string& path, const WireLimits& limits) {
  jf::object(v, path);
  if (v.size() > limits.max_labels) {
    jf::fail(path, "more than " + std::to_string(limits.max_labels) + " labels");
  }
  Labels labels;
  for (const auto& [k, value] : v.items()) {
    if (k.empty() || k.size() > limits.max_label_bytes)
      jf::fail(path, "label name empty or too long");
    labels.emplace(k, jf::string(value, jf::sub(path, k), limits.max_label_bytes));
  }
  return labels;
}

constexpr MetricUnits kMicros{"ms", "us", true};

struct ClientCountField {
  std::string_view name;
  int64_t ClientTiming::*field;
};
constexpr std::array<ClientCountField, 4> kClientCountFields = {{
    {"token_reads", &ClientTiming::token_reads},
    {"token_reads_kernel", &ClientTiming::token_reads_kernel},
    {"timing_values", &ClientTiming::timing_values},
    {"timing_uncertain", &ClientTiming::timing_uncertain},
}};

// Fills `c` (fresh: the caller's, so no second pair of full histograms is built per report).
void client_timing_from_wire(const json& v, const std::string& path, const WireLimits& limits,
                             ClientTiming& c) {
  jf::object(v, path);
  for (const auto& f : kClientCountFields) {
    c.*(f.field) = jf::count(jf::member(v, f.name, path), jf::sub(path, f.name));
  }
  if (c.token_reads_kernel > c.token_reads) {
    jf::fail(jf::sub(path, "token_reads_kernel"), "greater than token_reads");
  }
  if (c.timing_uncertain > c.timing_values) {
    jf::fail(jf::sub(path, "timing_uncertain"), "greater than timing_values");
  }
  for (auto [name, h] :
       {std::pair<const char*, HdrHistogram*>{"uncertain_window_us", &c.uncertain_window_us},
        std::pair<const char*, HdrHistogram*>{"loop_lag_us", &c.loop_lag_us}}) {
    // Checked, then added straight from the encoding into the fresh histogram (exact).
    auto checked = histogram_checked_from_wire(jf::member(v, name, path), jf::sub(path, name),
                                               kMicros, limits);
    if (auto added = h->add_checked(checked.first); !added) {
      jf::fail(jf::sub(path, name), "not a valid histogram (" + added.error() + ")");
    }
  }
  if (c.uncertain_window_us.total_count() > c.timing_uncertain) {
    jf::fail(jf::sub(path, "uncertain_window_us"), "more windows than uncertain values");
  }
}

}  // namespace

json ClientTiming::to_wire() const {
  json j = json::object();
  for (const auto& f : kClientCountFields) j[std::string(f.name)] = this->*(f.field);
  // Out-of-range values never reach these histograms (the recorders clamp): overflow is 0.
  j["uncertain_window_us"] = histogram_wire(uncertain_window_us, 0);
  j["loop_lag_us"] = histogram_wire(loop_lag_us, 0);
  return j;
}

Expected<ClientTiming> ClientTiming::from_wire(const json& j, const WireLimits& limits) {
  try {
    ClientTiming c;
    client_timing_from_wire(j, "client", limits, c);
    return c;
  } catch (const jf::FieldError& e) {
    return Error{e.what()};
  } catch (const json::exception& e) {
    return Error{std::string("client: malformed: ") + e.what()};
  }
}

json GroupStats::to_wire() const {
  json counters_j = json::object();
  for (const auto& f : kCounterFields) counters_j[std::string(f.name)] = counters.*(f.field);
  for (const auto& f : kOptionalCounterFields) {
    if (counters.*(f.field) != 0) counters_j[std::string(f.name)] = counters.*(f.field);
  }
  json errors = json::object();
  for (ErrorKind k : kAllErrorKinds) {
    int64_t n = counters.errors[static_cast<std::size_t>(k)];
    if (n != 0) errors[std::string(name(k))] = n;
  }
  counters_j["errors"] = std::move(errors);

  json histograms = json::object();
  for (Metric m : kAllMetrics) {
    const HdrHistogram* h = histogram(m);
    int64_t ov = overflow(m);
    if ((h && h->total_count() > 0) || ov > 0) {
      histograms[std::string(name(m))] = histogram_wire(h ? *h : make_histogram(m), ov);
    }
  }
  for (const auto& [n, h] : server_) {
    int64_t ov = server_overflow(n);
    if (h.total_count() > 0 || ov > 0) histograms[n] = histogram_wire(h, ov);
  }
  for (const auto& [n, ov] : server_overflow_) {
    if (ov > 0 && !histograms.contains(n)) {
      histograms[n] = histogram_wire(make_histogram(*units_of_name(n)), ov);
    }
  }

  json samples = json::object();
  for (ErrorKind k : kAllErrorKinds) {
    const auto& s = error_samples(k);
    if (!s.empty()) samples[std::string(name(k))] = s;
  }
  if (!mismatch_samples_.empty()) samples[std::string(kMismatchSamples)] = mismatch_samples_;
  json labels_j = json::object();
  for (const auto& [k, v] : labels) labels_j[k] = v;
  return json{{"labels", std::move(labels_j)},
              {"counters", std::move(counters_j)},
              {"histograms", std::move(histograms)},
              {"samples", std::move(samples)}};
}

Expected<GroupStats> GroupStats::from_wire(const json& j, const WireLimits& limits) {
  try {
    jf::object(j, "");
    GroupStats g(labels_from_wire(jf::member(j, "labels", ""), "labels", limits));
    g.counters = counters_from_wire(jf::member(j, "counters", ""), "counters");

    const json& histograms = jf::object(jf::member(j, "histograms", ""), "histograms");
    std::size_t server_count = 0;
    for (const auto& [n, v] : histograms.items()) {
      std::string p = jf::sub("histograms", n);
      if (limits.keep_encoded) {
        const bool server = !parse_metric(n);
        if (server && !is_server_metric_name(n)) jf::fail(p, "unknown metric");
        if (server && ++server_count > limits.max_server_metrics) {
          jf::fail("histograms",
                   "more than " + std::to_string(limits.max_server_metrics) + " server metrics");
        }
        auto [c, ov] = histogram_checked_from_wire(
            v, p, server ? *units_of_name(n) : units_of(*parse_metric(n)), limits);
        if (server) {
          if (ov > 0) g.server_overflow_[n] = ov;
        } else {
          g.overflow_[static_cast<std::size_t>(*parse_metric(n))] = ov;
        }
        g.encoded_.push_back(EncodedHistogram{n, std::move(c)});
      } else if (auto m = parse_metric(n)) {
        auto [h, ov] = histogram_from_wire(v, p, units_of(*m), limits);
        g.fixed_[static_cast<std::size_t>(*m)].emplace(std::move(h));
        g.overflow_[static_cast<std::size_t>(*m)] = ov;
      } else if (is_server_metric_name(n)) {
        if (++server_count > limits.max_server_metrics) {
          jf::fail("histograms",
                   "more than " + std::to_string(limits.max_server_metrics) + " server metrics");
        }
        auto [h, ov] = histogram_from_wire(v, p, *units_of_name(n), limits);
        g.server_.emplace(n, std::move(h));
        if (ov > 0) g.server_overflow_[n] = ov;
      } else {
        jf::fail(p, "unknown metric");
      }
    }

    const json& samples = jf::object(jf::member(j, "samples", ""), "samples");
    for (const auto& [k, v] : samples.items()) {
      std::string p = jf::sub("samples", k);
      auto kind = parse_error_kind(k);
      if (!kind && k != kMismatchSamples) jf::fail(p, "unknown error kind");
      jf::array(v, p);
      if (v.size() > kMaxSamplesPerKind) {
        jf::fail(p, "more than " + std::to_string(kMaxSamplesPerKind) + " samples");
      }
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string& s = jf::string(v[i], jf::index(p, i), kMaxSampleBytes);
        if (kind) {
          g.add_error_sample(*kind, s);
        } else {
          g.add_mismatch_sample(s);
        }
      }
    }
    return g;
  } catch (const jf::FieldError& e) {
    return Error{e.what()};
  } catch (const json::exception& e) {
    return Error{std::string("malformed: ") + e.what()};
  }
}

namespace {

// The optional target keys of an IntervalSnapshot: at most kMaxTargetSeries finite values.
void target_from_wire(const json& j, IntervalSnapshot& s) {
  if (const json* t = jf::optional_member(j, "target")) {
    jf::object(*t, "target");
    if (t->size() > kMaxTargetSeries) {
      jf::fail("target", "more than " + std::to_string(kMaxTargetSeries) + " series");
    }
    for (const auto& [k, v] : t->items()) {
      const std::string p = jf::sub("target", k);
      if (k.empty() || k.size() > kMaxTargetSeriesNameBytes) jf::fail(p, "bad series name");
      const double x = jf::number(v, p);
      if (!std::isfinite(x)) jf::fail(p, "not a finite number");
      s.target.emplace(k, x);
    }
  }
  if (const json* v = jf::optional_member(j, "target_failed")) {
    s.target_failed = jf::count(*v, "target_failed");
  }
  if (const json* v = jf::optional_member(j, "target_error")) {
    s.target_error = jf::string(*v, "target_error", GroupStats::kMaxSampleBytes);
  }
}

}  // namespace

json IntervalSnapshot::to_wire() const {
  json gs = json::array();
  for (const auto& g : groups) gs.push_back(g.to_wire());
  json j{{"start_ns", start_ns},
         {"end_ns", end_ns},
         {"groups", std::move(gs)},
         {"in_flight", in_flight},
         {"loop_lag_us_max", loop_lag_us_max},
         {"loop_busy_fraction", loop_busy_fraction},
         {"client", client.to_wire()},
         {"cpu_busy", cpu_busy},
         {"steal", steal}};
  if (window_end_ns != 0) j["window_end_ns"] = window_end_ns;
  if (!target.empty()) j["target"] = target;
  if (target_failed != 0) j["target_failed"] = target_failed;
  if (!target_error.empty()) j["target_error"] = target_error;
  if (peak_rss_bytes != 0) j["peak_rss_bytes"] = peak_rss_bytes;
  return j;
}

Expected<IntervalSnapshot> IntervalSnapshot::from_wire(const json& j, const WireLimits& limits) {
  try {
    jf::object(j, "");
    IntervalSnapshot s;
    s.start_ns = jf::integer(jf::member(j, "start_ns", ""), "start_ns");
    s.end_ns = jf::integer(jf::member(j, "end_ns", ""), "end_ns");
    if (s.end_ns < s.start_ns) jf::fail("end_ns", "before start_ns");
    s.in_flight = jf::count(jf::member(j, "in_flight", ""), "in_flight");
    s.loop_lag_us_max = jf::count(jf::member(j, "loop_lag_us_max", ""), "loop_lag_us_max");
    s.loop_busy_fraction =
        jf::number(jf::member(j, "loop_busy_fraction", ""), "loop_busy_fraction");
    if (s.loop_busy_fraction < 0 || s.loop_busy_fraction > 1) {
      jf::fail("loop_busy_fraction", "outside [0, 1]");
    }
    client_timing_from_wire(jf::member(j, "client", ""), "client", limits, s.client);
    for (auto [key, field] : {std::pair<const char*, double*>{"cpu_busy", &s.cpu_busy},
                              std::pair<const char*, double*>{"steal", &s.steal}}) {
      if (const json* v = jf::optional_member(j, key)) {
        *field = jf::number(*v, key);
        if (*field < 0 || *field > 1) jf::fail(key, "outside [0, 1]");
      }
    }
    if (const json* v = jf::optional_member(j, "window_end_ns")) {
      s.window_end_ns = jf::integer(*v, "window_end_ns");
    }
    target_from_wire(j, s);
    if (const json* v = jf::optional_member(j, "peak_rss_bytes")) {
      s.peak_rss_bytes = jf::count(*v, "peak_rss_bytes");
    }
    const json& groups = jf::array(jf::member(j, "groups", ""), "groups");
    if (groups.size() > limits.max_groups) {
      jf::fail("groups", "more than " + std::to_string(limits.max_groups) + " groups");
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
      jf::object(groups[i], jf::index("groups", i));  // so every error below has a field path
      auto g = GroupStats::from_wire(groups[i], limits);
      if (!g) return Error{jf::index("groups", i) + "." + g.error()};
      for (const auto& other : s.groups) {
        if (other.labels == g->labels) return Error{jf::index("groups", i) + ": duplicate labels"};
      }
      s.groups.push_back(std::move(g).value());
    }
    return s;
  } catch (const jf::FieldError& e) {
    return Error{e.what()};
  } catch (const json::exception& e) {
    return Error{std::string("malformed: ") + e.what()};
  }
}

}  // namespace llmload
