// HdrHistogram: our implementation of the published High Dynamic Range Histogram algorithm
// (Gil Tene) and its V2 encoding, compatible with the reference implementations (Java, JS).
//
// Values are integers (llmload records times in whole microseconds). Precision: any value is
// recorded in a bucket whose width is at most value / 10^significant_digits.
// A value outside [0, highest_trackable] is not recorded: record() returns false and the value
// is counted in overflow_count(), which the results report — never dropped silently.
//
// Not thread-safe: one writer. The cross-thread hand-off is worker/recorder.h's: each loop
// records into its own interval buffer and hands the whole buffer over at the boundary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace llmload {

class HdrHistogram {
 public:
  // lowest_discernible >= 1; highest_trackable >= 2 * lowest_discernible;
  // significant_digits in [1, 5]. Throws std::invalid_argument otherwise.
  HdrHistogram(int64_t lowest_discernible, int64_t highest_trackable, int significant_digits);

  // The settings llmload uses for times: 1 µs .. 1 h, 3 significant digits.
  static HdrHistogram for_micros();
  // The same histogram holding no count slot yet: each write grows it to the range it touches
  // (in whole sub-bucket halves), so it holds the range its values span, not the whole layout
  // (23,552 slots for for_micros(), where seconds-scale values use a few thousand). Every
  // figure, comparison and encoding is the full layout's. For merge targets and histograms
  // written rarely; a hot recording path keeps the full layout (never allocates after
  // construction). Throws as the constructor does.
  static HdrHistogram growing(int64_t lowest_discernible, int64_t highest_trackable,
                              int significant_digits);
  static HdrHistogram growing_micros() { return growing(1, 3'600'000'000, 3); }
  // Count slots held (the full layout's count for a constructed histogram): for tests and
  // memory accounting.
  size_t slots_held() const { return counts_.size(); }

  // Records `count` occurrences of `value`. No allocation (except once, into a histogram
  // returned by decode(), which holds only the slots its encoding used). False (and `count` added
  // to overflow_count()) when value < 0 or value > highest_trackable(). A negative count is a
  // caller bug: false, nothing recorded or counted; so is a count that would take the total
  // past 2^63 - 1 (refused the same way).
  bool record(int64_t value, int64_t count = 1) noexcept;
  // Records value, then back-fills the samples a stalled recorder missed: value - k*interval
  // for k = 1.. while >= interval (the reference recordValueWithExpectedInterval; the same
  // counts, but added bucket by bucket, so the cost is bounded by the bucket count whatever
  // value / interval is). expected_interval <= 0 records value alone.
  bool record_corrected(int64_t value, int64_t expected_interval) noexcept;

  // Adds every count of `other`, whatever its settings; values beyond this histogram's range
  // are counted as overflow here (and other's overflow_count() is added to ours). Returns false
  // if any value overflowed. Throws std::overflow_error, adding nothing, if the total or
  // overflow count would pass 2^63 - 1 (only hostile input gets there).
  bool add(const HdrHistogram& other);
  void reset() noexcept;

  int64_t total_count() const { return total_count_; }
  int64_t overflow_count() const { return overflow_count_; }
  // 0 when empty (as the reference implementations report).
  int64_t min() const;
  int64_t max() const;
  double mean() const;
  double stddev() const;
  // The highest value equivalent to the bucket holding the rank ceil(p/100 * total), p clamped
  // to [0, 100], exactly as the reference getValueAtPercentile computes it.
  int64_t value_at_percentile(double percentile) const;
  int64_t count_at_value(int64_t value) const;

  int64_t lowest_discernible() const { return lowest_discernible_; }
  int64_t highest_trackable() const { return highest_trackable_; }
  int significant_digits() const { return significant_digits_; }

  int64_t lowest_equivalent(int64_t value) const;
  int64_t highest_equivalent(int64_t value) const;
  int64_t median_equivalent(int64_t value) const;
  bool values_equivalent(int64_t a, int64_t b) const;

  // Every non-empty bucket in ascending order: (value, count), value being the bucket's
  // highest equivalent value (as the reference RecordedValuesIterator reports it).
  struct Bucket {
    int64_t value;
    int64_t count;
  };
  std::vector<Bucket> recorded_buckets() const;

  // The reference percentile iteration (PercentileIterator), ticks_per_half_distance as there:
  // the points of a percentile-distribution plot.
  struct PercentilePoint {
    double percentile;         // percentile level iterated to
    int64_t value;             // highest equivalent value at that level
    int64_t cumulative_count;  // total count up to and including that value
  };
  std::vector<PercentilePoint> percentiles(int ticks_per_half_distance = 5) const;

  // Same settings and identical counts (and overflow).
  bool operator==(const HdrHistogram& other) const;

  // --- V2 encoding -------------------------------------------------------------------------
  // Uncompressed V2 ("encoding cookie" 0x1c849303) and DEFLATE-compressed V2 (0x1c849304).
  std::string encode() const;
  std::string encode_compressed(int level = 6) const;
  // The `HISTF…` string: base64 of the compressed encoding.
  std::string to_base64() const;

  // Decoders take untrusted bytes: settings and lengths are checked before anything is
  // allocated; corrupt, truncated or hostile input gives an Error, never a crash.
  // `max_counts_len` bounds the memory a decoded histogram may take (8 bytes per count slot;
  // for_micros() needs 23,552). Accepted: V2 (cookie base 0x1c849303, written 0x1c849313) and
  // compressed V2 (base 0x1c849304, written 0x1c849314), any normalizing index offset (ignored,
  // as the reference decoders do; we write 0). V0/V1 encodings are refused with an Error that
  // says so; anything else (DoubleHistogram encodings included) as a bad cookie.
  static Expected<HdrHistogram> decode(std::string_view bytes, int64_t max_counts_len = 1 << 20);
  static Expected<HdrHistogram> from_base64(std::string_view text,
                                            int64_t max_counts_len = 1 << 20);
  // decode() then add() in one step, for merging intervals: when the encoding's bucket
  // structure matches ours (same lowest discernible power of two and significant digits,
  // e.g. both for_micros()) the counts go straight into this histogram, with no decoded copy
  // allocated. The value is add()'s (false if any value overflowed); on Error (the same
  // checks and messages as decode()) nothing has been added.
  Expected<bool> add_encoded(std::string_view bytes, int64_t max_counts_len = 1 << 20);

  // An encoding that passed every check decode() makes (settings, lengths, payload), kept as
  // its plain V2 bytes (inflated once if it came compressed) with its settings and total
  // count: a reader validates a message whole with this, then merges it later through
  // add_encoded(plain), which walks only the payload's explicit counts — no decoded copy, no
  // count slots allocated or zeroed for it.
  struct Checked {
    std::string plain;  // a plain V2 encoding
    int64_t lowest_discernible = 0;
    int64_t highest_trackable = 0;
    int significant_digits = 0;
    int64_t total_count = 0;
    // The lowest and highest slots holding a count (both 0 when total_count is 0).
    size_t first_slot = 0;
    size_t top_slot = 0;
  };
  // The same checks and errors as decode(); nothing of the size of the layout is allocated.
  static Expected<Checked> check_encoded(std::string_view bytes, int64_t max_counts_len = 1 << 20);
  // add_encoded(c.plain) for an encoding check_encoded() returned, in one walk of its payload
  // (add_encoded's two when c has counts past our range or another bucket structure). c must be
  // check_encoded()'s, unchanged: a changed header, slot or payload is an Error, never a write
  // out of bounds (a changed header adds nothing; changed slots may leave part added).
  Expected<bool> add_checked(const Checked& c);

  // Interval metadata, as the reference histograms carry it: not part of the V2 encoding, but
  // written and read by the .hlog format (common/hdr_log.h); reset() clears them.
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;
  std::string tag;

 private:
  // Sizes derived from the three settings (the reference AbstractHistogram's fields).
  struct Layout {
    int unit_magnitude;
    int sub_bucket_half_count_magnitude;
    int64_t sub_bucket_count;
    int bucket_count;
    int64_t counts_len;
  };
  // Validates the settings without allocating anything. Error names the bad setting.
  static Expected<Layout> layout_for(int64_t lowest_discernible, int64_t highest_trackable,
                                     int significant_digits);
  // hold_all: the full layout is allocated (a histogram that is recorded into never grows);
  // false: no slot is held yet (the decoder's, which sets the range it needs).
  explicit HdrHistogram(int64_t lowest_discernible, int64_t highest_trackable,
                        int significant_digits, const Layout& layout, bool hold_all = true);
  // Makes slots [low, top] the ones held (top < counts_len_), keeping every count: a
  // histogram holds only the range its counts were written to, grown as writes reach
  // beyond it (in whole sub-bucket halves, so a spread distribution grows a few times only).
  void ensure_range(size_t low, size_t top) {
    if (low - base_ >= counts_.size() || top - base_ >= counts_.size()) grow(low, top);
  }
  void grow(size_t low, size_t top);
  // The count of slot `slot` (0 outside the slots held).
  int64_t at(size_t slot) const noexcept {
    const size_t r = slot - base_;
    return r < counts_.size() ? counts_[r] : 0;
  }
  int64_t& slot_ref(size_t slot) noexcept { return counts_[slot - base_]; }

  size_t counts_index(int64_t value) const noexcept {
    int bucket =
        leading_zero_count_base_ - __builtin_clzll(static_cast<uint64_t>(value | sub_bucket_mask_));
    int64_t sub_bucket = value >> (bucket + unit_magnitude_);
    return static_cast<size_t>(
        (static_cast<int64_t>(bucket + 1) << sub_bucket_half_count_magnitude_) +
        (sub_bucket - sub_bucket_half_count_));
  }
  int64_t value_from_index(size_t index) const noexcept;
  int64_t size_of_equivalent_range(int64_t value) const;
  // Sets total, min and max from the counts (after decode or a cross-settings add).
  void recompute_stats() noexcept;
  friend struct HdrCodec;  // the V2 encoder/decoder (hdr_histogram_codec.cpp)

  // Implementation fields are the implementer's to choose.
  int64_t lowest_discernible_;
  int64_t highest_trackable_;
  int significant_digits_;
  int64_t total_count_ = 0;
  int64_t overflow_count_ = 0;
  int unit_magnitude_ = 0;
  int sub_bucket_half_count_magnitude_ = 0;
  int64_t sub_bucket_count_ = 0;
  int64_t sub_bucket_half_count_ = 0;
  int64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;
  int64_t min_value_ = INT64_MAX;
  int64_t max_value_ = 0;  // the largest value recorded, | unit_magnitude_mask_ (as reference)
  int64_t unit_magnitude_mask_ = 0;
  int leading_zero_count_base_ = 0;
  size_t max_index_ = 0;   // counts_index(highest_trackable_): the last slot record() may touch
  size_t counts_len_ = 0;  // slots of the full layout
  // The counts of slots [base_, base_ + counts_.size()) (the slots held); every other slot
  // holds 0. A constructed histogram holds the full layout (base_ 0); a decoded one only its
  // slots from its lowest to its highest non-empty one, and merges grow that range to what
  // they touch (ensure_range): an interval's histograms merged from many reports (the
  // coordinator) hold the range their values span, not the whole layout (23,552 slots for
  // for_micros(), of which seconds-scale values use a few thousand). Writers call
  // ensure_range() first.
  size_t base_ = 0;
  std::vector<int64_t> counts_;
};

}  // namespace llmload
