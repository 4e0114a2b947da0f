// The HdrHistogram algorithm: bucket layout, recording, queries and iteration, following the
// published algorithm (Gil Tene's AbstractHistogram) so every figure matches the reference
// implementations. The V2 encoding lives in hdr_histogram_codec.cpp.
#include "common/hdr_histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace llmload {

Expected<HdrHistogram::Layout> HdrHistogram::layout_for(int64_t lowest_discernible,
                                                        int64_t highest_trackable,
                                                        int significant_digits) {
  if (lowest_discernible < 1)
    return Error{"lowest discernible value " + std::to_string(lowest_discernible) +
                 " must be >= 1"};
  if (significant_digits < 1 || significant_digits > 5)
    return Error{"significant digits " + std::to_string(significant_digits) + " must be in [1, 5]"};
  if (highest_trackable / 2 < lowest_discernible)
    return Error{"highest trackable value " + std::to_string(highest_trackable) +
                 " must be >= 2 * lowest discernible value " + std::to_string(lowest_discernible)};
  Layout l{};
  // The largest value that must still be told apart from its neighbour at unit resolution.
  int64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits; ++i) largest_single_unit *= 10;
  l.unit_magnitude = 63 - __builtin_clzll(static_cast<uint64_t>(lowest_discernible));
  int sub_bucket_count_magnitude = 0;  // ceil(log2(largest_single_unit))
  while ((int64_t{1} << sub_bucket_count_magnitude) < largest_single_unit)
    ++sub_bucket_count_magnitude;
  l.sub_bucket_half_count_magnitude = std::max(sub_bucket_count_magnitude, 1) - 1;
  if (l.unit_magnitude + l.sub_bucket_half_count_magnitude > 61)
    return Error{"lowest discernible value " + std::to_string(lowest_discernible) + " with " +
                 std::to_string(significant_digits) +
                 " significant digits exceeds the 64-bit value range"};
  l.sub_bucket_count = int64_t{1} << (l.sub_bucket_half_count_magnitude + 1);
  // Buckets needed so that the top one covers highest_trackable (each doubles the range).
  int64_t smallest_untrackable = l.sub_bucket_count << l.unit_magnitude;
  int buckets = 1;
  while (smallest_untrackable <= highest_trackable) {
    if (smallest_untrackable > std::numeric_limits<int64_t>::max() / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  l.bucket_count = buckets;
  l.counts_len = static_cast<int64_t>(buckets + 1) * (l.sub_bucket_count / 2);
  return l;
}

HdrHistogram::HdrHistogram(int64_t lowest_discernible, int64_t highest_trackable,
                           int significant_digits, const Layout& l, bool hold_all)
    : lowest_discernible_(lowest_discernible),
      highest_trackable_(highest_trackable),
      significant_digits_(significant_digits),
      unit_magnitude_(l.unit_magnitude),
      sub_bucket_half_count_magnitude_(l.sub_bucket_half_count_magnitude),
      sub_bucket_count_(l.sub_bucket_count),
      sub_bucket_half_count_(l.sub_bucket_count / 2),
      sub_bucket_mask_((l.sub_bucket_count - 1) << l.unit_magnitude),
      bucket_count_(l.bucket_count),
      unit_magnitude_mask_((int64_t{1} << l.unit_magnitude) - 1),
      leading_zero_count_base_(64 - l.unit_magnitude - l.sub_bucket_half_count_magnitude - 1),
      counts_len_(static_cast<size_t>(l.counts_len)),
      counts_(hold_all ? counts_len_ : 0, 0) {
  max_value_ = unit_magnitude_mask_;  // the reference's reset state (0 | mask)
  max_index_ = counts_index(highest_trackable_);
  assert(max_index_ < counts_len_);
}

HdrHistogram::HdrHistogram(int64_t lowest_discernible, int64_t highest_trackable,
                           int significant_digits)
    : HdrHistogram(lowest_discernible, highest_trackable, significant_digits, [&] {
        auto l = layout_for(lowest_discernible, highest_trackable, significant_digits);
        if (!l.ok()) throw std::invalid_argument("HdrHistogram: " + l.error());
        return l.value();
      }()) {}

HdrHistogram HdrHistogram::for_micros() {
  return HdrHistogram(1, 3'600'000'000, 3);
}

HdrHistogram HdrHistogram::growing(int64_t lowest_discernible, int64_t highest_trackable,
                                   int significant_digits) {
  auto l = layout_for(lowest_discernible, highest_trackable, significant_digits);
  if (!l.ok()) throw std::invalid_argument("HdrHistogram: " + l.error());
  return HdrHistogram(lowest_discernible, highest_trackable, significant_digits, l.value(), false);
}

// --- recording ---------------------------------------------------------------------------

bool HdrHistogram::record(int64_t value, int64_t count) noexcept {
  if (count < 0) return false;
  if (value < 0 || value > highest_trackable_) {
    if (__builtin_add_overflow(overflow_count_, count, &overflow_count_))
      overflow_count_ = std::numeric_limits<int64_t>::max();
    return false;
  }
  // Every slot count is <= the total, so a total that fits means no slot overflows either.
  int64_t new_total;
  if (__builtin_add_overflow(total_count_, count, &new_total)) return false;
  total_count_ = new_total;
  size_t index = counts_index(value);
  ensure_range(index, index);
  slot_ref(index) += count;
  if (count > 0) {
    int64_t internal_max = value | unit_magnitude_mask_;
    if (internal_max > max_value_) max_value_ = internal_max;
    if (value < min_value_) min_value_ = value;
  }
  return true;
}

bool HdrHistogram::record_corrected(int64_t value, int64_t expected_interval) noexcept {
  if (!record(value)) return false;
  if (expected_interval <= 0) return true;
  // The back-filled samples value - k*interval (k >= 1, while >= interval) go in one bucket
  // at a time: every sample sharing the bucket of `missing` is recorded in a single call.
  int64_t missing = value - expected_interval;
  while (missing >= expected_interval) {
    int64_t bucket_low = lowest_equivalent(missing);
    int64_t in_bucket = (missing - std::max(bucket_low, expected_interval)) / expected_interval + 1;
    int64_t lowest_in_bucket = missing - (in_bucket - 1) * expected_interval;
    int64_t new_total;
    if (__builtin_add_overflow(total_count_, in_bucket, &new_total)) return false;
    total_count_ = new_total;
    size_t index = counts_index(missing);
    ensure_range(index, index);
    slot_ref(index) += in_bucket;
    if (lowest_in_bucket < min_value_) min_value_ = lowest_in_bucket;
    missing = lowest_in_bucket - expected_interval;
  }
  return true;
}

bool HdrHistogram::add(const HdrHistogram& other) {
  int64_t sum;
  if (__builtin_add_overflow(total_count_, other.total_count_, &sum) ||
      __builtin_add_overflow(overflow_count_, other.overflow_count_, &sum))
    throw std::overflow_error("HdrHistogram::add: counts would exceed 2^63 - 1");
  overflow_count_ += other.overflow_count_;
  if (other.total_count_ == 0) return other.overflow_count_ == 0;
  bool all_fit = other.overflow_count_ == 0;
  if (unit_magnitude_ == other.unit_magnitude_ && sub_bucket_count_ == other.sub_bucket_count_) {
    // Same bucket structure: slot i means the same values in both; add slot by slot up to
    // walk only other's recorded slots, from the one of its min value to the one of its max
    // value. Slots past max_index_ hold values above our range.
    // Only the slots other holds can be non-empty.
    const size_t other_end = other.base_ + other.counts_.size() - 1;
    size_t other_top = std::min(other.counts_index(other.max_value_), other_end);
    size_t other_low =
        std::min(std::max(other.counts_index(other.min_value_), other.base_), other_top);
    size_t shared_top = std::min(other_top, max_index_);
    if (other_low <= shared_top) {
      ensure_range(other_low, shared_top);
      int64_t* to = &slot_ref(other_low);
      const int64_t* from = &other.counts_[other_low - other.base_];
      for (size_t i = 0, n = shared_top - other_low + 1; i < n; ++i) to[i] += from[i];
    }
    int64_t beyond = 0;
    for (size_t i = std::max(shared_top + 1, other_low); i <= other_top; ++i) beyond += other.at(i);
    overflow_count_ += beyond;
    total_count_ += other.total_count_ - beyond;
    if (beyond > 0) {
      all_fit = false;
      recompute_stats();
    } else {
      min_value_ = std::min(min_value_, other.min_value_);
      max_value_ = std::max(max_value_, other.max_value_);
    }
    return all_fit;
  }
  // Different structure: each bucket of `other` is re-recorded at its lowest value (as the
  // reference add() does), so it lands in the bucket of ours that holds that value.
  for (size_t i = 0; i < other.counts_.size(); ++i) {
    int64_t c = other.counts_[i];
    if (c != 0 && !record(other.value_from_index(other.base_ + i), c)) all_fit = false;
  }
  return all_fit;
}

void HdrHistogram::reset() noexcept {
  // Only the slots from min to max can hold counts (every other slot is 0): an interval
  // histogram is reset every second on every loop, and its full layout is ~360 KB for times.
  if (total_count_ > 0 && !counts_.empty()) {
    const size_t end = base_ + counts_.size() - 1;
    const size_t top = std::min(counts_index(max_value_), end);
    const size_t low = std::min(std::max(counts_index(min_value_), base_), top);
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(low - base_),
              counts_.begin() + static_cast<std::ptrdiff_t>(top - base_) + 1, 0);
  }
  total_count_ = 0;
  overflow_count_ = 0;
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = unit_magnitude_mask_;
  start_time_ms = 0;
  end_time_ms = 0;
  tag.clear();
}

void HdrHistogram::recompute_stats() noexcept {
  total_count_ = 0;
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = unit_magnitude_mask_;
  for (size_t i = 0; i < counts_.size(); ++i) {
    int64_t c = counts_[i];
    if (c == 0) continue;
    total_count_ += c;
    const int64_t v = value_from_index(base_ + i);
    if (min_value_ == std::numeric_limits<int64_t>::max()) min_value_ = v;
    max_value_ = highest_equivalent(v) | unit_magnitude_mask_;
  }
}

void HdrHistogram::grow(size_t low, size_t top) {
  if (!counts_.empty()) {
    low = std::min(low, base_);
    top = std::max(top, base_ + counts_.size() - 1);
  }
  // Whole sub-bucket halves (each bucket past the first is one): a distribution's range grows
  // by whole buckets, each of which doubles the values it covers, so a few times at most.
  const size_t grain = static_cast<size_t>(sub_bucket_half_count_);
  low -= low % grain;
  top = std::min(top - top % grain + grain - 1, counts_len_ - 1);
  if (low == base_ && top - low + 1 == counts_.size()) return;
  std::vector<int64_t> wider(top - low + 1, 0);
  if (!counts_.empty()) std::copy(counts_.begin(), counts_.end(), wider.begin() + (base_ - low));
  counts_ = std::move(wider);
  base_ = low;
}

// --- bucket arithmetic -------------------------------------------------------------------

int64_t HdrHistogram::value_from_index(size_t index) const noexcept {
  int bucket = static_cast<int>(index >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub_bucket =
      static_cast<int64_t>(index & static_cast<size_t>(sub_bucket_half_count_ - 1)) +
      sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << (bucket + unit_magnitude_);
}

int64_t HdrHistogram::size_of_equivalent_range(int64_t value) const {
  value = std::max<int64_t>(value, 0);
  int bucket =
      leading_zero_count_base_ - __builtin_clzll(static_cast<uint64_t>(value | sub_bucket_mask_));
  int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  int shift = unit_magnitude_ + (sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket);
  return int64_t{1} << shift;
}

int64_t HdrHistogram::lowest_equivalent(int64_t value) const {
  value = std::max<int64_t>(value, 0);
  int bucket =
      leading_zero_count_base_ - __builtin_clzll(static_cast<uint64_t>(value | sub_bucket_mask_));
  int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  return sub_bucket << (bucket + unit_magnitude_);
}

int64_t HdrHistogram::highest_equivalent(int64_t value) const {
  // next_non_equivalent - 1, saturating where the top bucket reaches 2^63.
  uint64_t next = static_cast<uint64_t>(lowest_equivalent(value)) +
                  static_cast<uint64_t>(size_of_equivalent_range(value));
  if (next > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(next) - 1;
}

int64_t HdrHistogram::median_equivalent(int64_t value) const {
  return lowest_equivalent(value) + (size_of_equivalent_range(value) >> 1);
}

bool HdrHistogram::values_equivalent(int64_t a, int64_t b) const {
  return lowest_equivalent(a) == lowest_equivalent(b);
}

// --- queries -----------------------------------------------------------------------------

int64_t HdrHistogram::min() const {
  if (total_count_ == 0 || at(0) > 0) return 0;
  return lowest_equivalent(min_value_);
}

int64_t HdrHistogram::max() const {
  return max_value_ == 0 || total_count_ == 0 ? 0 : highest_equivalent(max_value_);
}

double HdrHistogram::mean() const {
  if (total_count_ == 0) return 0.0;
  double total_value = 0;
  for (size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i] != 0)
      total_value += static_cast<double>(median_equivalent(value_from_index(base_ + i))) *
                     static_cast<double>(counts_[i]);
  return total_value / static_cast<double>(total_count_);
}

double HdrHistogram::stddev() const {
  if (total_count_ == 0) return 0.0;
  double m = mean();
  double sum = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    double dev = static_cast<double>(median_equivalent(value_from_index(base_ + i))) - m;
    sum += dev * dev * static_cast<double>(counts_[i]);
  }
  return std::sqrt(sum / static_cast<double>(total_count_));
}

int64_t HdrHistogram::value_at_percentile(double percentile) const {
  // As the reference: step one ulp down first so that p/100 * total landing a hair above an
  // integer by rounding does not push the rank into the next bucket.
  int64_t rank = 1;
  if (!std::isnan(percentile)) {
    double p = std::nextafter(percentile, -std::numeric_limits<double>::infinity());
    p = std::min(std::max(p, 0.0), 100.0);
    double fp_rank = (p * static_cast<double>(total_count_)) / 100.0;
    rank = std::max<int64_t>(static_cast<int64_t>(std::ceil(fp_rank)), 1);
  }
  int64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i];
    if (running >= rank) {
      int64_t v = value_from_index(base_ + i);
      return percentile == 0.0 ? lowest_equivalent(v) : highest_equivalent(v);
    }
  }
  return 0;
}

int64_t HdrHistogram::count_at_value(int64_t value) const {
  if (value < 0) return 0;
  return at(counts_index(value));
}

std::vector<HdrHistogram::Bucket> HdrHistogram::recorded_buckets() const {
  std::vector<Bucket> out;
  for (size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i] != 0)
      out.push_back({highest_equivalent(value_from_index(base_ + i)), counts_[i]});
  return out;
}

std::vector<HdrHistogram::PercentilePoint> HdrHistogram::percentiles(
    int ticks_per_half_distance) const {
  // The reference PercentileIterator: levels advance by 100 / (ticks * 2^(halvings + 1)), where
  // halvings = floor(log2(100 / (100 - level))); a level is reported at the first non-empty
  // slot whose cumulative percentile reaches it; one last point at 100% closes the series.
  std::vector<PercentilePoint> out;
  if (total_count_ == 0) return out;
  ticks_per_half_distance = std::max(ticks_per_half_distance, 1);
  const double total = static_cast<double>(total_count_);
  double level = 0.0;
  int64_t cumulative = 0;
  size_t i = 0;
  size_t last_counted = 0;  // the slot (index into counts_) where the cumulative count last grew
  bool fresh = true;
  while (cumulative < total_count_ && i < counts_.size()) {
    int64_t c = counts_[i];
    if (fresh) {
      cumulative += c;
      if (c != 0) last_counted = i;
      fresh = false;
    }
    if (c != 0 && (100.0 * static_cast<double>(cumulative)) / total >= level) {
      out.push_back({level, highest_equivalent(value_from_index(base_ + i)), cumulative});
      double halvings = std::floor(std::log(100.0 / (100.0 - level)) / std::log(2.0));
      halvings = std::min(halvings, 1000.0);
      double next = level + 100.0 / (ticks_per_half_distance *
                                     std::ldexp(1.0, static_cast<int>(halvings) + 1));
      if (next > level) {
        level = next;
        continue;  // the same slot may reach the next level too
      }
      // The level no longer moves in floating point (only with astronomical counts, where the
      // reference would loop forever): go on to the next slot so the walk always ends.
    }
    ++i;
    fresh = true;
  }
  out.push_back({100.0, highest_equivalent(value_from_index(base_ + last_counted)), cumulative});
  return out;
}

bool HdrHistogram::operator==(const HdrHistogram& other) const {
  return lowest_discernible_ == other.lowest_discernible_ &&
         highest_trackable_ == other.highest_trackable_ &&
         significant_digits_ == other.significant_digits_ && total_count_ == other.total_count_ &&
         overflow_count_ == other.overflow_count_ && [&] {
           // Slots outside either side's held range are 0.
           const size_t low = std::min(base_, other.base_);
           const size_t end = std::max(base_ + counts_.size(), other.base_ + other.counts_.size());
           for (size_t i = low; i < end; ++i)
             if (at(i) != other.at(i)) return false;
           return true;
         }();
}

}  // namespace llmload
