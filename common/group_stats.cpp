#include "common/group_stats.h"

#include <algorithm>
#include <stdexcept>

namespace llmload {

std::string group_key(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

void Counters::merge(const Counters& o) {
  requests += o.requests;
  ok += o.ok;
  failed += o.failed;
  client_cancelled += o.client_cancelled;
  for (std::size_t i = 0; i < kErrorKindCount; ++i) errors[i] += o.errors[i];
  retries += o.retries;
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  tokens_from_usage += o.tokens_from_usage;
  tokens_counted += o.tokens_counted;
  tokens_tokenized += o.tokens_tokenized;
  goodput += o.goodput;
  dropped += o.dropped;
  bytes_received += o.bytes_received;
  inputs += o.inputs;
  tokens_mismatch += o.tokens_mismatch;
  cached_tokens += o.cached_tokens;
  cache_prompt_tokens += o.cache_prompt_tokens;
}

std::optional<double> Counters::prefix_cache_hit_rate() const {
  if (cache_prompt_tokens <= 0) return std::nullopt;
  return double(cached_tokens) / double(cache_prompt_tokens);
}

HdrHistogram& GroupStats::fixed_histogram(Metric m) {
  auto& slot = fixed_[static_cast<std::size_t>(m)];
  if (!slot) slot.emplace(make_histogram(m));
  return *slot;
}

void GroupStats::prepare(std::initializer_list<Metric> metrics) {
  for (Metric m : metrics) fixed_histogram(m);
}

void GroupStats::prepare_all() {
  for (Metric m : kAllMetrics) fixed_histogram(m);
}

bool GroupStats::record(Metric m, int64_t value, int64_t count) {
  if (fixed_histogram(m).record(value, count)) return true;
  overflow_[static_cast<std::size_t>(m)] += count;
  return false;
}

bool GroupStats::record_server(std::string_view metric_name, int64_t value) {
  auto units = units_of_name(metric_name);
  if (!units || !is_server_metric_name(metric_name)) return false;
  auto it = server_.find(metric_name);
  if (it == server_.end()) {
    it = server_.emplace(std::string(metric_name), make_histogram(*units)).first;
  }
  if (it->second.record(value)) return true;
  server_overflow_[std::string(metric_name)] += 1;
  return false;
}

bool GroupStats::add_histogram(std::string_view metric_name, const HdrHistogram& h,
                               int64_t overflow) {
  HdrHistogram* target = nullptr;
  int64_t* target_overflow = nullptr;
  if (auto m = parse_metric(metric_name)) {
    target = &fixed_histogram(*m);
    target_overflow = &overflow_[static_cast<std::size_t>(*m)];
  } else if (is_server_metric_name(metric_name)) {
    auto it = server_.find(metric_name);
    if (it == server_.end()) {
      it = server_.emplace(std::string(metric_name), make_histogram(*units_of_name(metric_name)))
               .first;
    }
    target = &it->second;
    target_overflow = &server_overflow_[std::string(metric_name)];
  } else {
    return false;
  }
  int64_t before = target->overflow_count();
  target->add(h);
  // add() also carries h's own overflow_count(); only values that fell outside this range count
  // here (the caller states h's overflow explicitly).
  int64_t fell_out = target->overflow_count() - before - h.overflow_count();
  *target_overflow += overflow + (fell_out > 0 ? fell_out : 0);
  return true;
}

int64_t GroupStats::server_overflow(std::string_view metric_name) const {
  auto it = server_overflow_.find(metric_name);
  return it == server_overflow_.end() ? 0 : it->second;
}

int64_t GroupStats::count(Metric m) const {
  const auto* h = histogram(m);
  return h ? h->total_count() : 0;
}

void GroupStats::record_error(ErrorKind kind, std::string_view message) {
  counters.requests += 1;
  counters.failed += 1;
  counters.errors[static_cast<std::size_t>(kind)] += 1;
  add_error_sample(kind, message);
}

void GroupStats::record_client_cancelled() {
  counters.requests += 1;
  counters.client_cancelled += 1;
}

void GroupStats::add_error_sample(ErrorKind kind, std::string_view message) {
  keep_sample(samples_[static_cast<std::size_t>(kind)], message);
}

void GroupStats::record_tokens_mismatch(std::string_view message) {
  counters.tokens_mismatch += 1;
  add_mismatch_sample(message);
}

void GroupStats::add_mismatch_sample(std::string_view message) {
  keep_sample(mismatch_samples_, message);
}

void GroupStats::keep_sample(std::vector<std::string>& kept, std::string_view message) {
  if (kept.size() >= kMaxSamplesPerKind) return;
  kept.emplace_back(utf8_prefix(message, kMaxSampleBytes));
}

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t cut = max_bytes;
  // Never split a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

void GroupStats::merge(const GroupStats& other) {
  counters.merge(other.counters);
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    overflow_[i] += other.overflow_[i];
    const auto& theirs = other.fixed_[i];
    if (!theirs) continue;
    if (theirs->total_count() == 0 && fixed_[i]) continue;
    if (!fixed_[i]) {
      // A copy is add() into an empty histogram, and a decoded one copies only the slots it
      // holds (not the whole layout that make_histogram would allocate and zero).
      HdrHistogram& h = fixed_[i].emplace(*theirs);
      h.start_time_ms = 0;
      h.end_time_ms = 0;
      h.tag.clear();
      continue;
    }
    // Same settings on both sides (make_histogram), so add() is exact and never overflows.
    fixed_histogram(static_cast<Metric>(i)).add(*theirs);
  }
  for (const auto& [n, h] : other.server_) {
    auto it = server_.find(n);
    if (it == server_.end()) {
      server_.emplace(n, h);
    } else {
      it->second.add(h);
    }
  }
  for (const auto& [n, c] : other.server_overflow_) server_overflow_[n] += c;
  for (const EncodedHistogram& e : other.encoded_) {
    if (e.hdr.total_count == 0) continue;
    // Into an absent metric: a histogram of the encoding's settings (the metric's: checked)
    // holding only the range the counts reach (HdrHistogram::growing), as the copy above, not
    // the whole layout make_histogram would allocate and zero; later merges grow it to what
    // they touch.
    auto growing = [&e] {
      return HdrHistogram::growing(e.hdr.lowest_discernible, e.hdr.highest_trackable,
                                   e.hdr.significant_digits);
    };
    HdrHistogram* target = nullptr;
    if (auto m = parse_metric(e.name)) {
      auto& slot = fixed_[static_cast<std::size_t>(*m)];
      if (!slot) slot.emplace(growing());
      target = &*slot;
    } else {
      auto it = server_.find(e.name);
      if (it == server_.end()) it = server_.emplace(e.name, growing()).first;
      target = &it->second;
    }
    // Checked, with the metric's settings: only a total past 2^63 - 1 can fail here, which
    // add() reports the same way. One walk of the payload (it was checked whole when read).
    auto added = target->add_checked(e.hdr);
    if (!added) throw std::overflow_error("GroupStats::merge: " + added.error());
  }
  for (std::size_t i = 0; i < kErrorKindCount; ++i) {
    for (const auto& s : other.samples_[i]) {
      if (samples_[i].size() >= kMaxSamplesPerKind) break;
      samples_[i].push_back(s);
    }
  }
  for (const auto& s : other.mismatch_samples_) add_mismatch_sample(s);
}

void GroupStats::reset() {
  counters = Counters{};
  for (auto& h : fixed_) {
    if (h) h->reset();
  }
  overflow_.fill(0);
  for (auto& [n, h] : server_) h.reset();
  server_overflow_.clear();
  for (auto& s : samples_) s.clear();
  mismatch_samples_.clear();
  encoded_.clear();
}

bool GroupStats::empty() const {
  if (!(counters == Counters{})) return false;
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    if (overflow_[i] != 0 || (fixed_[i] && fixed_[i]->total_count() != 0)) return false;
  }
  for (const auto& [n, h] : server_) {
    if (h.total_count() != 0) return false;
  }
  for (const auto& [n, c] : server_overflow_) {
    if (c != 0) return false;
  }
  for (const auto& s : samples_) {
    if (!s.empty()) return false;
  }
  for (const auto& e : encoded_) {
    if (e.hdr.total_count != 0) return false;
  }
  return mismatch_samples_.empty();
}

namespace {

// Equal recorded counts; a missing histogram equals an empty one. Overflow is compared
// separately (GroupStats keeps its own), so HdrHistogram::operator== is not used.
bool same_counts(const HdrHistogram* a, const HdrHistogram* b) {
  int64_t ca = a ? a->total_count() : 0;
  int64_t cb = b ? b->total_count() : 0;
  if (ca != cb) return false;
  if (ca == 0) return true;
  auto ba = a->recorded_buckets();
  auto bb = b->recorded_buckets();
  return std::equal(ba.begin(), ba.end(), bb.begin(), bb.end(), [](const auto& x, const auto& y) {
    return x.value == y.value && x.count == y.count;
  });
}

}  // namespace

bool GroupStats::operator==(const GroupStats& o) const {
  if (labels != o.labels || !(counters == o.counters) || overflow_ != o.overflow_ ||
      samples_ != o.samples_ || mismatch_samples_ != o.mismatch_samples_) {
    return false;
  }
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    if (!same_counts(fixed_[i] ? &*fixed_[i] : nullptr, o.fixed_[i] ? &*o.fixed_[i] : nullptr)) {
      return false;
    }
  }
  auto nonzero = [](const auto& map) {
    std::map<std::string, int64_t> out;
    for (const auto& [n, c] : map) {
      if (c != 0) out.emplace(n, c);
    }
    return out;
  };
  if (nonzero(server_overflow_) != nonzero(o.server_overflow_)) return false;
  auto check_server = [](const auto& mine, const auto& theirs) {
    for (const auto& [n, h] : mine) {
      auto it = theirs.find(n);
      if (!same_counts(&h, it == theirs.end() ? nullptr : &it->second)) return false;
    }
    return true;
  };
  return check_server(server_, o.server_) && check_server(o.server_, server_);
}

// --- IntervalSnapshot ------------------------------------------------------------------------

std::string_view ClientTiming::timestamps() const {
  if (token_reads == 0) return "none";
  if (token_reads_kernel == token_reads) return "kernel";
  return token_reads_kernel == 0 ? "clock" : "mixed";
}

double ClientTiming::kernel_share() const {
  return token_reads > 0 ? double(token_reads_kernel) / double(token_reads) : 0.0;
}

double ClientTiming::uncertain_share() const {
  return timing_values > 0 ? double(timing_uncertain) / double(timing_values) : 0.0;
}

void ClientTiming::merge(const ClientTiming& other) {
  token_reads += other.token_reads;
  token_reads_kernel += other.token_reads_kernel;
  timing_values += other.timing_values;
  timing_uncertain += other.timing_uncertain;
  uncertain_window_us.add(other.uncertain_window_us);
  loop_lag_us.add(other.loop_lag_us);
}

void ClientTiming::reset() {
  token_reads = token_reads_kernel = timing_values = timing_uncertain = 0;
  uncertain_window_us.reset();
  loop_lag_us.reset();
}

GroupStats& IntervalSnapshot::group(const Labels& labels) {
  for (auto& g : groups) {
    if (g.labels == labels) return g;
  }
  return groups.emplace_back(labels);
}

GroupStats IntervalSnapshot::total() const {
  GroupStats out;
  for (const auto& g : groups) out.merge(g);
  return out;
}

}  // namespace llmload
