// Fuzzes the HdrHistogram decoders with untrusted input: raw V2 bytes (plain or compressed),
// base64 text, and .hlog text. Every input goes through all three. Whatever decodes must be
// usable (queries, iteration), survive a re-encode round trip unchanged, and merge the same
// through add_encoded() as through decode() + add(); check_encoded() accepts the same and
// its plain bytes merge the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "common/hdr_histogram.h"
#include "common/hdr_log.h"

namespace {

// Small enough for speed, large enough for for_micros() (23,552 slots).
constexpr int64_t kMaxCounts = 1 << 16;

void check(bool ok) {
  if (!ok) std::abort();
}

void exercise(const llmload::HdrHistogram& h) {
  // Unsigned sums: the values themselves may be near 2^63, the sum only has to be used.
  volatile uint64_t sink = static_cast<uint64_t>(h.total_count()) + h.min() + h.max();
  sink = sink + h.value_at_percentile(50) + h.value_at_percentile(99.9) + h.value_at_percentile(0) +
         h.value_at_percentile(100);
  volatile double d = h.mean() + h.stddev();
  (void)d;
  check(h.min() <= h.max());
  check(h.value_at_percentile(50) <= h.value_at_percentile(99.9) || h.total_count() == 0);
  check(h.percentiles(2).size() <= h.recorded_buckets().size() + 2'000);
  int64_t sum = 0;
  for (const auto& b : h.recorded_buckets()) sum += b.count;
  check(sum == h.total_count());
  auto again = llmload::HdrHistogram::decode(h.encode_compressed(1), kMaxCounts);
  check(again.ok() && *again == h);
  llmload::HdrHistogram merged = llmload::HdrHistogram::for_micros();
  try {
    merged.add(h);
    check(merged.total_count() + merged.overflow_count() == h.total_count());
  } catch (const std::overflow_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto raw = llmload::HdrHistogram::decode(bytes, kMaxCounts);
  if (raw.ok()) exercise(*raw);
  // add_encoded() must agree with decode() + add(): same acceptance, same result.
  llmload::HdrHistogram direct = llmload::HdrHistogram::for_micros();
  auto added = direct.add_encoded(bytes, kMaxCounts);
  check(added.ok() == raw.ok());
  if (raw.ok()) {
    llmload::HdrHistogram via_decode = llmload::HdrHistogram::for_micros();
    via_decode.add(*raw);
    check(via_decode == direct && via_decode.min() == direct.min() &&
          via_decode.max() == direct.max());
  } else {
    check(direct.total_count() == 0 && direct.overflow_count() == 0);
  }
  // check_encoded() accepts exactly what decode() does, and its plain bytes merge the same.
  auto checked = llmload::HdrHistogram::check_encoded(bytes, kMaxCounts);
  check(checked.ok() == raw.ok());
  if (checked.ok()) {
    check(checked->total_count == raw->total_count() &&
          checked->lowest_discernible == raw->lowest_discernible() &&
          checked->highest_trackable == raw->highest_trackable() &&
          checked->significant_digits == raw->significant_digits());
    llmload::HdrHistogram from_plain = llmload::HdrHistogram::for_micros();
    auto again = from_plain.add_encoded(checked->plain, kMaxCounts);
    check(again.ok() && from_plain == direct && from_plain.min() == direct.min() &&
          from_plain.max() == direct.max());
    // add_checked (one walk) into a histogram holding no slots yet: the same counts.
    llmload::HdrHistogram grown = llmload::HdrHistogram::growing_micros();
    auto once = grown.add_checked(*checked);
    check(once.ok() && grown == direct && grown.min() == direct.min() &&
          grown.max() == direct.max() && grown.encode() == direct.encode());
  }
  auto text = llmload::HdrHistogram::from_base64(bytes, kMaxCounts);
  if (text.ok()) exercise(*text);
  auto log = llmload::parse_hdr_log(bytes, "fuzz", kMaxCounts);
  if (log.ok())
    for (const auto& h : log->intervals) exercise(h);
  return 0;
}
