// The V2 encoding: round trips (plain, compressed, base64) and hostile input.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "common/base64.h"
#include "common/hdr_histogram.h"

namespace llmload {
namespace {

HdrHistogram sample(int64_t lowest, int64_t highest, int digits, int n, uint64_t seed) {
  HdrHistogram h(lowest, highest, digits);
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> ln(std::log(40'000.0), 1.3);
  for (int i = 0; i < n; ++i) h.record(std::min<int64_t>(std::llround(ln(rng)), highest));
  return h;
}

void expect_same(const HdrHistogram& a, const HdrHistogram& b) {
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.total_count(), b.total_count());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  EXPECT_DOUBLE_EQ(a.mean(), b.mean());
  for (double p : {0.0, 50.0, 90.0, 99.0, 99.9, 100.0})
    EXPECT_EQ(a.value_at_percentile(p), b.value_at_percentile(p));
}

std::string be32(uint32_t v) {
  std::string s;
  for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((v >> sh) & 0xff);
  return s;
}
std::string be64(uint64_t v) {
  return be32(static_cast<uint32_t>(v >> 32)) + be32(static_cast<uint32_t>(v));
}

std::string plain_header(uint32_t payload_len, int32_t digits, int64_t lowest, int64_t highest,
                         int32_t offset = 0) {
  double ratio = 1.0;
  uint64_t bits;
  std::memcpy(&bits, &ratio, 8);
  return be32(0x1c849313) + be32(payload_len) + be32(static_cast<uint32_t>(offset)) +
         be32(static_cast<uint32_t>(digits)) + be64(static_cast<uint64_t>(lowest)) +
         be64(static_cast<uint64_t>(highest)) + be64(bits);
}

TEST(HdrCodec, RoundTripsPlainCompressedAndBase64) {
  for (auto settings : {std::tuple<int64_t, int64_t, int>{1, 3'600'000'000, 3},
                        {1, 3'600'000'000, 5},
                        {1000, 1'000'000'000'000, 2},
                        {1, 2, 1},
                        {7, INT64_MAX, 4}}) {
    auto [lo, hi, d] = settings;
    SCOPED_TRACE(std::to_string(lo) + "," + std::to_string(hi) + "," + std::to_string(d));
    HdrHistogram h = sample(lo, hi, d, 20'000, 42);
    const int64_t limit = 4 << 20;  // (1, 3.6e9, 5) needs 2^21 slots, above the default
    auto plain = HdrHistogram::decode(h.encode(), limit);
    ASSERT_TRUE(plain.ok()) << plain.error();
    expect_same(h, *plain);
    auto compressed = HdrHistogram::decode(h.encode_compressed(), limit);
    ASSERT_TRUE(compressed.ok()) << compressed.error();
    expect_same(h, *compressed);
    std::string text = h.to_base64();
    EXPECT_EQ(text.rfind("HISTF", 0), 0u) << text.substr(0, 10);
    auto from_text = HdrHistogram::from_base64(text, limit);
    ASSERT_TRUE(from_text.ok()) << from_text.error();
    expect_same(h, *from_text);
    EXPECT_EQ(from_text->lowest_discernible(), lo);
    EXPECT_EQ(from_text->highest_trackable(), hi);
    EXPECT_EQ(from_text->significant_digits(), d);
  }
}

TEST(HdrCodec, EmptyAndExtremeCountsRoundTrip) {
  HdrHistogram empty = HdrHistogram::for_micros();
  std::string enc = empty.encode();
  EXPECT_EQ(enc.size(), 41u);  // header + one zero count, as the reference writes it
  auto back = HdrHistogram::decode(enc);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->total_count(), 0);
  EXPECT_EQ(back->max(), 0);
  HdrHistogram big = HdrHistogram::for_micros();
  big.record(0, INT64_MAX / 4);  // needs the 9-byte varint form
  big.record(3'600'000'000, INT64_MAX / 4);
  auto big_back = HdrHistogram::decode(big.encode_compressed(9));
  ASSERT_TRUE(big_back.ok()) << big_back.error();
  expect_same(big, *big_back);
}

TEST(HdrCodec, EncodingIsTheReferenceLayout) {
  HdrHistogram h = HdrHistogram::for_micros();
  h.record(1);
  h.record(3, 300);
  std::string enc = h.encode();
  // payload: slot0=0 (a single zero is written as 0), slot1=1, slot2=0, slot3=300
  std::string payload = std::string("\x00\x02\x00", 3) + "\xd8\x04";
  EXPECT_EQ(enc, plain_header(5, 3, 1, 3'600'000'000) + payload);
  std::string compressed = h.encode_compressed();
  EXPECT_EQ(compressed.substr(0, 4), be32(0x1c849314));
  EXPECT_EQ(compressed.substr(4, 4), be32(static_cast<uint32_t>(compressed.size() - 8)));
}

void expect_rejected(std::string_view bytes, const std::string& needle) {
  auto r = HdrHistogram::decode(bytes);
  ASSERT_FALSE(r.ok()) << "accepted: " << needle;
  EXPECT_NE(r.error().find(needle), std::string::npos) << r.error();
  EXPECT_EQ(r.error().rfind("HdrHistogram decode: ", 0), 0u) << r.error();
}

TEST(HdrCodec, IgnoresTheNormalizingIndexOffsetAsTheReferenceDecoders) {
  // hdr-histogram-js writes offset 1; its counts are in logical slot order all the same.
  std::string payload = std::string("\x00\x02\x00", 3) + "\xd8\x04";
  auto h = HdrHistogram::decode(plain_header(5, 3, 1, 3'600'000'000, 1) + payload);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(h->count_at_value(1), 1);
  EXPECT_EQ(h->count_at_value(3), 300);
  EXPECT_EQ(h->total_count(), 301);
}

TEST(HdrCodec, RejectsTruncatedInput) {
  HdrHistogram h = sample(1, 3'600'000'000, 3, 5000, 7);
  std::string plain = h.encode();
  std::string compressed = h.encode_compressed();
  for (size_t n = 0; n < plain.size(); n += (n < 60 ? 1 : 97))
    EXPECT_FALSE(HdrHistogram::decode(std::string_view(plain).substr(0, n)).ok()) << n;
  for (size_t n = 0; n < compressed.size(); ++n)
    EXPECT_FALSE(HdrHistogram::decode(std::string_view(compressed).substr(0, n)).ok()) << n;
  expect_rejected("", "no room for a cookie");
  expect_rejected(plain.substr(0, 20), "header needs 40");
  expect_rejected(plain.substr(0, plain.size() - 1), "truncated");
  // Compressed length honest about the bytes present, but the zlib stream cut short.
  std::string cut = compressed.substr(0, compressed.size() - 10);
  cut.replace(4, 4, be32(static_cast<uint32_t>(cut.size() - 8)));
  expect_rejected(cut, "truncated");
}

TEST(HdrCodec, RejectsBadCookiesAndSettings) {
  expect_rejected(be32(0xdeadbeef) + std::string(60, '\0'), "bad cookie 0xdeadbeef");
  expect_rejected(be32(0x1c849301) + std::string(60, '\0'), "V0/V1");
  expect_rejected(plain_header(1, 0, 1, 1000) + std::string(1, '\0'), "significant digits 0");
  expect_rejected(plain_header(1, 9, 1, 1000) + std::string(1, '\0'), "significant digits 9");
  expect_rejected(plain_header(1, 3, 0, 1000) + std::string(1, '\0'), "lowest discernible value 0");
  expect_rejected(plain_header(1, 3, -5, 1000) + std::string(1, '\0'), "lowest discernible");
  expect_rejected(plain_header(1, 3, 100, 150) + std::string(1, '\0'), "highest trackable");
  expect_rejected(plain_header(1, 3, 1, -1) + std::string(1, '\0'), "highest trackable");
  expect_rejected(plain_header(0x80000000u, 3, 1, 1000), "negative payload length");
  // Settings that would need far more memory than the caller allows.
  expect_rejected(plain_header(1, 5, 1, INT64_MAX) + std::string(1, '\0'), "above the limit");
  auto small_limit = HdrHistogram::decode(HdrHistogram::for_micros().encode(), 1000);
  ASSERT_FALSE(small_limit.ok());
  EXPECT_NE(small_limit.error().find("23552 count slots"), std::string::npos)
      << small_limit.error();
}

TEST(HdrCodec, RejectsCountsBeyondThePayloadOrTheRange) {
  // Declared payload longer than the bytes present.
  expect_rejected(plain_header(1000, 3, 1, 1000) + std::string(10, '\0'), "only 10 bytes");
  // Declared payload longer than any histogram of these settings could need.
  expect_rejected(plain_header(100'000, 1, 1, 2) + std::string(100'000, '\0'), "exceeds");
  // A run of zeros past the last slot (zigzag(-n) = 2n - 1).
  std::string run = "\xff\x07";  // zigzag 1023 -> -512, and (1, 2, 1) has 32 slots
  expect_rejected(plain_header(2, 1, 1, 2) + run, "goes past");
  // More counts than slots.
  std::string counts(40, '\x02');
  expect_rejected(plain_header(40, 1, 1, 2) + counts, "beyond the");
  // A varint cut off at the end of the payload.
  expect_rejected(plain_header(1, 1, 1, 2) + "\x80", "truncated inside a count");
  // Counts whose sum does not fit in 64 bits.
  // Each 9-byte varint is zigzag 0x7ffffffffffffffe, the count 2^62 - 1: three overflow.
  std::string huge;
  for (int i = 0; i < 3; ++i) huge += "\xfe" + std::string(7, '\xff') + "\x7f";
  expect_rejected(plain_header(27, 1, 1, 2) + huge, "overflows");
}

TEST(HdrCodec, RejectsCorruptAndHostileCompressedData) {
  HdrHistogram h = sample(1, 3'600'000'000, 3, 5000, 9);
  std::string compressed = h.encode_compressed();
  std::string corrupt = compressed;
  for (size_t i = 10; i < corrupt.size(); i += 3) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  EXPECT_FALSE(HdrHistogram::decode(corrupt).ok());
  std::string lying_len = compressed;
  lying_len.replace(4, 4, be32(1'000'000));
  expect_rejected(lying_len, "truncated");
  std::string negative_len = compressed;
  negative_len.replace(4, 4, be32(0xffffff00u));
  expect_rejected(negative_len, "compressed length");
  // A compressed wrapper around a non-V2 cookie.
  std::string wrapped = be32(0x1c849314) + be32(0) + "not zlib";
  expect_rejected(wrapped, "truncated");
}

TEST(HdrCodec, AddEncodedEqualsDecodeThenAdd) {
  HdrHistogram base = sample(1, 3'600'000'000, 3, 3000, 11);
  for (const HdrHistogram& other :
       {sample(1, 3'600'000'000, 3, 4000, 12),  // same settings
        sample(1, 100'000'000, 3, 4000, 13),    // same structure, smaller range
        sample(1, 3'600'000'000, 2, 4000, 14),  // other structure: decoded then added
        HdrHistogram::for_micros()}) {
    for (bool compressed : {true, false}) {
      HdrHistogram expected = base;
      EXPECT_TRUE(expected.add(HdrHistogram::decode(other.encode()).value()));
      HdrHistogram got = base;
      auto r = got.add_encoded(compressed ? other.encode_compressed() : other.encode());
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_TRUE(*r);
      expect_same(got, expected);
    }
  }
  // Values beyond the receiver's range: overflow, as add().
  HdrHistogram narrow(1, 10'000, 3);
  HdrHistogram wide = HdrHistogram::for_micros();
  wide.record(500, 2);
  wide.record(50'000, 3);
  auto r = narrow.add_encoded(wide.encode_compressed());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(*r);
  EXPECT_EQ(narrow.total_count(), 2);
  EXPECT_EQ(narrow.overflow_count(), 3);
  EXPECT_EQ(narrow.max(), 500);
  // Bad input: an Error, and nothing added (the payload is checked before any count is).
  HdrHistogram before = base;
  std::string plain = sample(1, 3'600'000'000, 3, 3000, 15).encode();
  std::string lying = plain + std::string(16, '\x02');  // 16 counts of 1 past the payload...
  lying.replace(4, 4, be32(static_cast<uint32_t>(lying.size() - 40)));
  lying += std::string(5, '\xff');  // ...then a varint cut short: invalid at the very end
  lying.replace(4, 4, be32(static_cast<uint32_t>(lying.size() - 40)));
  auto bad = base.add_encoded(lying);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("truncated inside a count"), std::string::npos) << bad.error();
  expect_same(base, before);
  EXPECT_FALSE(base.add_encoded("garbage").ok());
  expect_same(base, before);
}

TEST(HdrCodec, Base64IsStrictAndRoundTrips) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("foob"), std::string("\x00\xff\x10\x80", 4)}) {
    std::string text = base64_encode(s);
    EXPECT_EQ(text.size() % 4, 0u);
    auto back = base64_decode(text);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_decode("Zm8").value(), "fo");  // unpadded accepted
  EXPECT_FALSE(base64_decode("Zm9v YmFy").ok());
  EXPECT_FALSE(base64_decode("Zm=v").ok());
  EXPECT_FALSE(base64_decode("Z").ok());
  EXPECT_FALSE(base64_decode("Zm9=").ok());  // non-zero trailing bits
  EXPECT_FALSE(base64_decode("Zm8==").ok());
  auto bad = HdrHistogram::from_base64("HISTF!!!");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("invalid character at offset 5"), std::string::npos) << bad.error();
  EXPECT_FALSE(HdrHistogram::from_base64(std::string(20'000'000, 'A')).ok());
}

// A decoded histogram holds only the slots its encoding reaches; it must behave exactly as a
// fully allocated one: equality, queries, re-encoding, recording into it, adding both ways.
TEST(HdrCodec, DecodedHistogramBehavesAsAFullOne) {
  HdrHistogram full = HdrHistogram::for_micros();
  for (int64_t v : {3, 50, 777, 5'000}) full.record(v, 2);
  auto decoded = HdrHistogram::decode(full.encode_compressed());
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  expect_same(decoded.value(), full);
  EXPECT_TRUE(full == decoded.value());
  EXPECT_EQ(decoded->encode(), full.encode());
  EXPECT_EQ(decoded->recorded_buckets().size(), full.recorded_buckets().size());
  EXPECT_EQ(decoded->count_at_value(3'000'000'000), 0);
  // Recording past the decoded slots grows it; the result equals the full histogram's.
  HdrHistogram grown = decoded.value();
  ASSERT_TRUE(grown.record(3'000'000'000));
  ASSERT_TRUE(full.record(3'000'000'000));
  expect_same(grown, full);
  EXPECT_FALSE(grown == decoded.value());
  // add() both ways, and add_encoded() into a decoded histogram.
  HdrHistogram into = decoded.value();
  into.add(full);
  HdrHistogram expected = full;
  expected.add(decoded.value());
  expect_same(into, expected);
  HdrHistogram enc_into = decoded.value();
  ASSERT_TRUE(enc_into.add_encoded(full.encode_compressed()).ok());
  expect_same(enc_into, expected);
  // An empty encoding decodes to an empty histogram equal to a fresh one.
  auto empty = HdrHistogram::decode(HdrHistogram::for_micros().encode());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value() == HdrHistogram::for_micros());
  EXPECT_EQ(empty->min(), 0);
  EXPECT_EQ(empty->max(), 0);
}

// add() walks only the other histogram's recorded slot range: it must equal re-recording
// every bucket of the other one by one, on random histograms, same and different settings.
TEST(HdrCodec, AddEqualsRecordingEveryBucket) {
  struct Settings {
    int64_t lowest, highest;
    int digits;
  };
  const Settings settings[] = {{1, 3'600'000'000, 3},
                               {1, 3'600'000'000, 2},
                               {1, 1'000'000, 3},
                               {1000, 3'600'000'000, 3},
                               {1, 100'000'000'000, 4}};
  std::mt19937_64 rng(42);
  for (const auto& a : settings) {
    for (const auto& b : settings) {
      for (int round = 0; round < 3; ++round) {
        HdrHistogram into = sample(a.lowest, a.highest, a.digits, 500, rng());
        HdrHistogram other(b.lowest, b.highest, b.digits);
        std::uniform_int_distribution<int64_t> lo(0, 2'000), span(1, 50'000'000);
        int64_t base = lo(rng), width = span(rng);
        for (int i = 0; i < 300; ++i)
          other.record(std::min(base + static_cast<int64_t>(rng() % width), b.highest));
        HdrHistogram reference = into;
        bool ref_fit = true;
        for (const auto& bk : other.recorded_buckets())
          if (!reference.record(other.lowest_equivalent(bk.value), bk.count)) ref_fit = false;
        bool same_structure = a.lowest == b.lowest && a.digits == b.digits;
        HdrHistogram got = into;
        bool fit = got.add(other);
        EXPECT_EQ(fit, ref_fit);
        EXPECT_EQ(got.total_count(), reference.total_count());
        EXPECT_EQ(got.overflow_count(), reference.overflow_count());
        EXPECT_TRUE(got == reference)
            << a.lowest << "/" << a.digits << " += " << b.lowest << "/" << b.digits;
        if (same_structure) expect_same(got, reference);
        // The same through a decoded (partially allocated) copy of other.
        auto dec = HdrHistogram::decode(other.encode_compressed());
        ASSERT_TRUE(dec.ok()) << dec.error();
        HdrHistogram via_decoded = into;
        EXPECT_EQ(via_decoded.add(dec.value()), ref_fit);
        EXPECT_TRUE(via_decoded == reference);
      }
    }
  }
}

}  // namespace
}  // namespace llmload
