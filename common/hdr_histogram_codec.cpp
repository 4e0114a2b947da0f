// The HdrHistogram V2 encoding, as the reference implementations write it:
//
//   plain:      be32 cookie 0x1c849313, be32 payload length, be32 normalizing index offset,
//               be32 significant digits, be64 lowest discernible, be64 highest trackable,
//               be64 (IEEE double) integer-to-double conversion ratio, then the payload: every
//               count slot from 0 to the slot of the max value as a ZigZag LEB128 varint (at most
//               9 bytes, the 9th carrying 8 bits), a run of n > 1 empty slots written as -n.
//   compressed: be32 cookie 0x1c849314, be32 length of what follows, then zlib (DEFLATE) of the
//               plain encoding.
//
// Decoding takes untrusted bytes: every length is checked against what is there and against
// max_counts_len before anything is allocated, and inflate never writes past the 40-byte header
// and the declared (bounded) payload.
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <limits>

#include "common/base64.h"
#include "common/hdr_histogram.h"

namespace llmload {
namespace {

constexpr uint32_t kV2Cookie = 0x1c849313;            // base 0x1c849303 | word size 9 (0x10)
constexpr uint32_t kV2CompressedCookie = 0x1c849314;  // base 0x1c849304 | word size 9 (0x10)
constexpr uint32_t kV2Base = 0x1c849303;
constexpr uint32_t kV2CompressedBase = 0x1c849304;
constexpr uint32_t kV0Base = 0x1c849308, kV0CompressedBase = 0x1c849309;
constexpr uint32_t kV1Base = 0x1c849301, kV1CompressedBase = 0x1c849302;
constexpr size_t kHeaderSize = 40;
constexpr int64_t kMaxVarintBytes = 9;
// DEFLATE cannot expand data by more than about 1032:1, so a payload claiming more than this per
// compressed byte is a lie, refused before its buffer is allocated.
constexpr int64_t kMaxInflateRatio = 1100;

void put_be32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}
void put_be64(std::string& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}
uint32_t get_be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void put_zigzag(std::string& out, int64_t value) {
  uint64_t z = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  for (int i = 0; i < 8; ++i) {
    if (z < 0x80) {
      out += static_cast<char>(z);
      return;
    }
    out += static_cast<char>((z & 0x7f) | 0x80);
    z >>= 7;
  }
  out += static_cast<char>(z);  // the 9th byte holds the top 8 bits whole
}

Error fail(const std::string& what) {
  return Error{"HdrHistogram decode: " + what};
}

struct Header {
  int32_t payload_len;
  int32_t significant_digits;
  int64_t lowest;
  int64_t highest;
};

Header parse_header(const char* p) {
  Header h{};
  h.payload_len = static_cast<int32_t>(get_be32(p + 4));
  // p + 8: the normalizing index offset (see empty_from_header).
  h.significant_digits = static_cast<int32_t>(get_be32(p + 12));
  h.lowest = static_cast<int64_t>(get_be64(p + 16));
  h.highest = static_cast<int64_t>(get_be64(p + 24));
  // p + 32: the conversion ratio, meaningful only to DoubleHistogram wrappers; ignored.
  return h;
}

}  // namespace

struct HdrCodec {
  using Layout = HdrHistogram::Layout;

  // A checked header with its payload. A compressed encoding is inflated into `inflated`
  // whole, its plain header then its payload: a plain encoding itself (check_encoded keeps it
  // as it is, no second copy).
  struct Parsed {
    Header h{};
    Layout layout{};
    std::string_view plain_payload;
    std::string inflated;
    bool compressed = false;
    std::string_view payload() const {
      return compressed ? std::string_view(inflated).substr(kHeaderSize) : plain_payload;
    }
  };

  // Checks the header's settings and sizes without allocating anything. `payload_available`
  // is how many payload bytes can exist at most.
  static Expected<Layout> check_header(const Header& h, int64_t payload_available,
                                       int64_t max_counts_len) {
    if (h.payload_len < 0) return fail("negative payload length " + std::to_string(h.payload_len));
    // The normalizing index offset is not checked: the payload holds counts in logical slot
    // order whatever it says (Java writes 0, hdr-histogram-js writes 1, both ignore it when
    // decoding), so we ignore it too.
    auto layout = HdrHistogram::layout_for(h.lowest, h.highest, h.significant_digits);
    if (!layout.ok()) return fail("bad settings: " + layout.error());
    if (layout->counts_len > max_counts_len)
      return fail("settings need " + std::to_string(layout->counts_len) +
                  " count slots, above the limit of " + std::to_string(max_counts_len));
    if (h.payload_len > layout->counts_len * kMaxVarintBytes)
      return fail("payload length " + std::to_string(h.payload_len) +
                  " exceeds what the histogram's " + std::to_string(layout->counts_len) +
                  " slots can take");
    if (h.payload_len > payload_available)
      return fail("payload length " + std::to_string(h.payload_len) + " but only " +
                  std::to_string(payload_available) + " bytes can follow (truncated?)");
    return layout;
  }

  // Walks the payload's counts, calling on_count(slot, count) for every explicit count
  // (empty runs are skipped). Returns an error message, empty when the payload is sound.
  template <class OnCount>
  static std::string walk(std::string_view payload, size_t len, OnCount&& on_count) {
    size_t slot = 0;
    size_t pos = 0;
    while (pos < payload.size()) {
      uint64_t z = 0;
      for (int i = 0;; ++i) {
        if (pos >= payload.size())
          return "payload truncated inside a count at byte " + std::to_string(pos);
        uint8_t b = static_cast<uint8_t>(payload[pos++]);
        if (i == 8) {
          z |= static_cast<uint64_t>(b) << 56;
          break;
        }
        z |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) break;
      }
      int64_t v = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
      if (v < 0) {  // a run of -v empty slots
        uint64_t run = static_cast<uint64_t>(0) - static_cast<uint64_t>(v);
        if (run > len - slot)
          return "run of " + std::to_string(run) + " empty slots at slot " + std::to_string(slot) +
                 " goes past the " + std::to_string(len) + " slots of the histogram";
        slot += run;
        continue;
      }
      if (slot >= len)
        return "count at slot " + std::to_string(slot) + " is beyond the " + std::to_string(len) +
               " slots of the histogram";
      if (!on_count(slot, v)) return "total count overflows 64 bits";
      ++slot;
    }
    return {};
  }

  static Expected<Parsed> parse(std::string_view bytes, int64_t max_counts_len) {
    if (bytes.size() < 4)
      return fail("truncated: " + std::to_string(bytes.size()) + " bytes, no room for a cookie");
    uint32_t cookie = get_be32(bytes.data());
    uint32_t base = cookie & ~0xf0u;
    if (base == kV2CompressedBase) return parse_compressed(bytes, max_counts_len);
    if (base == kV2Base) return parse_plain(bytes, max_counts_len);
    if (base == kV0Base || base == kV0CompressedBase || base == kV1Base ||
        base == kV1CompressedBase)
      return fail("V0/V1 encodings (pre-2015 HdrHistogram) are not supported, only V2");
    return fail("bad cookie 0x" + hex32(cookie) + " (not an HdrHistogram V2 encoding)");
  }

  static std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
  }

  static Expected<Parsed> parse_plain(std::string_view bytes, int64_t max_counts_len) {
    if (bytes.size() < kHeaderSize)
      return fail("truncated: " + std::to_string(bytes.size()) + " bytes, the header needs " +
                  std::to_string(kHeaderSize));
    Parsed p;
    p.h = parse_header(bytes.data());
    auto layout =
        check_header(p.h, static_cast<int64_t>(bytes.size() - kHeaderSize), max_counts_len);
    if (!layout.ok()) return Error{layout.error()};
    p.layout = layout.value();
    p.plain_payload = bytes.substr(kHeaderSize, static_cast<size_t>(p.h.payload_len));
    return p;
  }

  static Expected<Parsed> parse_compressed(std::string_view bytes, int64_t max_counts_len) {
    if (bytes.size() < 8)
      return fail("truncated: " + std::to_string(bytes.size()) +
                  " bytes, a compressed encoding needs at least 8");
    int64_t compressed_len = static_cast<int32_t>(get_be32(bytes.data() + 4));
    if (compressed_len < 0 || compressed_len > static_cast<int64_t>(bytes.size() - 8))
      return fail("compressed length " + std::to_string(compressed_len) + " but " +
                  std::to_string(bytes.size() - 8) + " bytes follow (truncated?)");
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) return fail("zlib inflateInit failed");
    struct Guard {
      z_stream* z;
      ~Guard() { inflateEnd(z); }
    } guard{&zs};
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + 8));
    zs.avail_in = static_cast<uInt>(compressed_len);
    // Inflates exactly n bytes into out, or says why not.
    auto inflate_exactly = [&zs](char* out, size_t n, const char* what) -> std::string {
      zs.next_out = reinterpret_cast<Bytef*>(out);
      zs.avail_out = static_cast<uInt>(n);
      while (zs.avail_out > 0) {
        int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END && zs.avail_out > 0)
          return std::string("compressed data ends inside the ") + what;
        if (rc == Z_BUF_ERROR) return std::string("compressed data truncated inside the ") + what;
        if (rc != Z_OK && rc != Z_STREAM_END)
          return std::string("corrupt compressed data in the ") + what +
                 " (zlib: " + (zs.msg ? zs.msg : "error " + std::to_string(rc)) + ")";
      }
      return {};
    };
    char header[kHeaderSize];
    if (auto e = inflate_exactly(header, kHeaderSize, "header"); !e.empty()) return fail(e);
    uint32_t inner_cookie = get_be32(header);
    if ((inner_cookie & ~0xf0u) != kV2Base)
      return fail("compressed content has cookie 0x" + hex32(inner_cookie) + ", not a V2 encoding");
    Parsed p;
    p.compressed = true;
    p.h = parse_header(header);
    auto layout = check_header(p.h, compressed_len * kMaxInflateRatio, max_counts_len);
    if (!layout.ok()) return Error{layout.error()};
    p.layout = layout.value();
    p.inflated.resize(kHeaderSize + static_cast<size_t>(p.h.payload_len));
    std::memcpy(p.inflated.data(), header, kHeaderSize);
    if (auto e = inflate_exactly(p.inflated.data() + kHeaderSize,
                                 static_cast<size_t>(p.h.payload_len), "payload");
        !e.empty())
      return fail(e);
    return p;
  }

  static Expected<HdrHistogram> decode(std::string_view bytes, int64_t max_counts_len) {
    auto parsed = parse(bytes, max_counts_len);
    if (!parsed.ok()) return Error{parsed.error()};
    const Parsed& p = parsed.value();
    // Only the slots from the first to the last non-empty one are held: an interval's few
    // hundred non-empty slots do not cost the whole layout (23,552 for for_micros()). A first
    // walk finds them, so the counts are allocated once.
    const size_t len = static_cast<size_t>(p.layout.counts_len);
    size_t first = 0, top = 0;
    bool any = false;
    std::string e = walk(p.payload(), len, [&](size_t slot, int64_t v) {
      if (v != 0) {
        if (!any) first = slot;
        top = slot;
        any = true;
      }
      return true;
    });
    if (!e.empty()) return fail(e);
    HdrHistogram hist(p.h.lowest, p.h.highest, p.h.significant_digits, p.layout, false);
    if (any) {  // exactly [first, top]: merges into it grow it as they need
      hist.base_ = first;
      hist.counts_.assign(top - first + 1, 0);
    }
    e = walk(p.payload(), len, [&hist](size_t slot, int64_t v) {
      if (v == 0) return true;  // slots not allocated are 0 already
      if (__builtin_add_overflow(hist.total_count_, v, &hist.total_count_)) return false;
      if (v != 0) {
        // min and max as recompute_stats() (and the reference) derive them after decoding,
        // without a rescan of every slot: the lowest value of the first non-empty slot, the
        // highest equivalent value of the last.
        if (hist.min_value_ == std::numeric_limits<int64_t>::max())
          hist.min_value_ = hist.value_from_index(slot);
        hist.max_value_ =
            hist.highest_equivalent(hist.value_from_index(slot)) | hist.unit_magnitude_mask_;
      }
      hist.slot_ref(slot) = v;
      return true;
    });
    if (!e.empty()) return fail(e);
    return hist;
  }

  static Expected<bool> add_encoded(HdrHistogram& into, std::string_view bytes,
                                    int64_t max_counts_len) {
    auto parsed = parse(bytes, max_counts_len);
    if (!parsed.ok()) return Error{parsed.error()};
    const Parsed& p = parsed.value();
    if (p.layout.unit_magnitude != into.unit_magnitude_ ||
        p.layout.sub_bucket_count != into.sub_bucket_count_) {
      auto other = decode(bytes, max_counts_len);
      if (!other.ok()) return Error{other.error()};
      return into.add(other.value());
    }
    // Same bucket structure: validate the whole payload first (nothing is added on error),
    // then add slot by slot; slots past into's highest trackable value are overflow. The
    // first walk also finds the first and last non-empty slots in range: min and max follow
    // from them (value_from_index is increasing), not from every slot.
    int64_t total = 0;
    size_t first = 0, top = 0;  // the lowest and highest non-empty slots within into's range
    bool any = false;
    std::string e =
        walk(p.payload(), static_cast<size_t>(p.layout.counts_len), [&](size_t slot, int64_t v) {
          if (v != 0 && slot <= into.max_index_) {
            if (!any) first = slot;
            top = slot;
            any = true;
          }
          return !__builtin_add_overflow(total, v, &total);
        });
    if (!e.empty()) return fail(e);
    int64_t sum;
    if (__builtin_add_overflow(into.total_count_, total, &sum) ||
        __builtin_add_overflow(into.overflow_count_, total, &sum))
      return fail("adding " + std::to_string(total) + " values would exceed 2^63 - 1");
    return add_walk(into, p.payload(), static_cast<size_t>(p.layout.counts_len), total, any, first,
                    top);
  }

  // The adding walk of a payload already checked whole: `total` its sum, [first, top] its
  // non-empty slots within into's range (any: there are some).
  static Expected<bool> add_walk(HdrHistogram& into, std::string_view payload, size_t len,
                                 int64_t total, bool any, size_t first, size_t top) {
    if (any) {
      into.ensure_range(first, top);
      int64_t low = into.value_from_index(first);
      if (low < into.min_value_) into.min_value_ = low;
      int64_t high =
          into.highest_equivalent(into.value_from_index(top)) | into.unit_magnitude_mask_;
      if (high > into.max_value_) into.max_value_ = high;
    }
    int64_t beyond = 0;
    // Every non-empty slot within range lies in [first, top], which into now holds (a slot
    // outside what is held can only come from a Checked changed after check_encoded: refused
    // rather than written out of bounds).
    int64_t* counts = into.counts_.data();
    const size_t base = into.base_;
    const size_t held = into.counts_.size();
    const size_t max_index = into.max_index_;
    bool outside = false;
    walk(payload, len, [&](size_t slot, int64_t v) {
      if (v == 0) return true;  // explicit zeros may lie outside the slots held
      if (slot > max_index) {
        beyond += v;
      } else if (slot - base < held) {
        counts[slot - base] += v;
      } else {
        outside = true;
        return false;
      }
      return true;
    });
    into.overflow_count_ += beyond;
    if (outside) {
      into.recompute_stats();  // what was added stays counted, consistently
      return fail("a checked encoding changed after check_encoded (counts outside its slots)");
    }
    into.total_count_ += total - beyond;
    return beyond == 0;
  }

  static Expected<bool> add_checked(HdrHistogram& into, const HdrHistogram::Checked& c) {
    // The header again (cheap, no walk): settings and lengths as check_encoded saw them.
    auto parsed = parse_plain(c.plain, std::numeric_limits<int64_t>::max());
    if (!parsed.ok()) return Error{parsed.error()};
    const Parsed& p = parsed.value();
    // Another bucket structure, or counts past into's range (its max then comes from the
    // highest slot within range, which only add_encoded's first walk finds): the two walks.
    if (p.layout.unit_magnitude != into.unit_magnitude_ ||
        p.layout.sub_bucket_count != into.sub_bucket_count_ || c.top_slot > into.max_index_ ||
        c.first_slot > c.top_slot)
      return add_encoded(into, c.plain, std::numeric_limits<int64_t>::max());
    int64_t sum;
    if (__builtin_add_overflow(into.total_count_, c.total_count, &sum) ||
        __builtin_add_overflow(into.overflow_count_, c.total_count, &sum))
      return fail("adding " + std::to_string(c.total_count) + " values would exceed 2^63 - 1");
    return add_walk(into, p.payload(), static_cast<size_t>(p.layout.counts_len), c.total_count,
                    c.total_count > 0, c.first_slot, c.top_slot);
  }

  static Expected<HdrHistogram::Checked> check_encoded(std::string_view bytes,
                                                       int64_t max_counts_len) {
    auto parsed = parse(bytes, max_counts_len);
    if (!parsed.ok()) return Error{parsed.error()};
    Parsed& p = parsed.value();
    HdrHistogram::Checked c;
    bool any = false;
    std::string e = walk(p.payload(), static_cast<size_t>(p.layout.counts_len),
                         [&c, &any](size_t slot, int64_t v) {
                           if (v != 0) {
                             if (!any) c.first_slot = slot;
                             c.top_slot = slot;
                             any = true;
                           }
                           return !__builtin_add_overflow(c.total_count, v, &c.total_count);
                         });
    if (!e.empty()) return fail(e);
    c.lowest_discernible = p.h.lowest;
    c.highest_trackable = p.h.highest;
    c.significant_digits = p.h.significant_digits;
    if (!p.compressed) {
      c.plain.assign(bytes.substr(0, kHeaderSize + static_cast<size_t>(p.h.payload_len)));
    } else {
      c.plain = std::move(p.inflated);  // the inflated plain encoding, as it was written
    }
    return c;
  }
};

std::string HdrHistogram::encode() const {
  std::string payload;
  size_t limit = total_count_ == 0 ? 1 : counts_index(max_value_) + 1;
  for (size_t i = 0; i < limit;) {
    int64_t c = at(i++);
    if (c == 0) {
      int64_t zeros = 1;
      while (i < limit && at(i) == 0) {
        ++zeros;
        ++i;
      }
      put_zigzag(payload, zeros > 1 ? -zeros : 0);
    } else {
      put_zigzag(payload, c);
    }
  }
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  put_be32(out, kV2Cookie);
  put_be32(out, static_cast<uint32_t>(payload.size()));
  put_be32(out, 0);  // normalizing index offset
  put_be32(out, static_cast<uint32_t>(significant_digits_));
  put_be64(out, static_cast<uint64_t>(lowest_discernible_));
  put_be64(out, static_cast<uint64_t>(highest_trackable_));
  double ratio = 1.0;
  uint64_t ratio_bits;
  std::memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
  put_be64(out, ratio_bits);
  out += payload;
  return out;
}

std::string HdrHistogram::encode_compressed(int level) const {
  std::string plain = encode();
  uLongf bound = compressBound(static_cast<uLong>(plain.size()));
  std::string out(8 + bound, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(out.data() + 8), &bound,
                     reinterpret_cast<const Bytef*>(plain.data()), static_cast<uLong>(plain.size()),
                     level);
  if (rc != Z_OK) {  // only a bad level can fail here; fall back to the default
    bound = compressBound(static_cast<uLong>(plain.size()));
    compress2(reinterpret_cast<Bytef*>(out.data() + 8), &bound,
              reinterpret_cast<const Bytef*>(plain.data()), static_cast<uLong>(plain.size()),
              Z_DEFAULT_COMPRESSION);
  }
  out.resize(8 + bound);
  std::string head;
  put_be32(head, kV2CompressedCookie);
  put_be32(head, static_cast<uint32_t>(bound));
  out.replace(0, 8, head);
  return out;
}

std::string HdrHistogram::to_base64() const {
  return base64_encode(encode_compressed());
}

Expected<HdrHistogram> HdrHistogram::decode(std::string_view bytes, int64_t max_counts_len) {
  return HdrCodec::decode(bytes, max_counts_len);
}

Expected<bool> HdrHistogram::add_encoded(std::string_view bytes, int64_t max_counts_len) {
  return HdrCodec::add_encoded(*this, bytes, max_counts_len);
}

Expected<bool> HdrHistogram::add_checked(const Checked& c) {
  return HdrCodec::add_checked(*this, c);
}

Expected<HdrHistogram::Checked> HdrHistogram::check_encoded(std::string_view bytes,
                                                            int64_t max_counts_len) {
  return HdrCodec::check_encoded(bytes, max_counts_len);
}

Expected<HdrHistogram> HdrHistogram::from_base64(std::string_view text, int64_t max_counts_len) {
  // Before decoding: a base64 text of a valid encoding is at most 4/3 of its bytes, which are
  // at most 8 + compressed payload; refuse texts far beyond what max_counts_len allows.
  int64_t max_bytes = 64 + max_counts_len * kMaxVarintBytes + 1024;
  if (static_cast<int64_t>(text.size()) / 4 * 3 > max_bytes)
    return fail("base64 text of " + std::to_string(text.size()) +
                " characters is larger than any histogram within the limit");
  auto bytes = base64_decode(text);
  if (!bytes.ok()) return fail(bytes.error());
  return decode(bytes.value(), max_counts_len);
}

}  // namespace llmload
