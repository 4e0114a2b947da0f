// Merging straight from encodings (issue 18): HdrHistogram::check_encoded + add_encoded, and
// GroupStats / REPORT decoding with WireLimits::keep_encoded, as the coordinator merges. Each
// must give exactly what decode-then-add gives, on many random histograms of many settings, and
// refuse malformed input with the same error, adding nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/group_stats.h"
#include "common/wire.h"
#include "coordinator/live_merge.h"

namespace llmload {
namespace {

struct Settings {
  int64_t lowest;
  int64_t highest;
  int digits;
};

Settings random_settings(std::mt19937_64& rng) {
  static const int64_t kLowest[] = {1, 2, 3, 5, 1000, 1 << 10};
  static const int64_t kRange[] = {4, 1000, 3'600'000'000 / 1000, 10'000'000, int64_t(1) << 40};
  Settings s;
  s.lowest = kLowest[rng() % std::size(kLowest)];
  s.digits = 1 + static_cast<int>(rng() % 5);
  // 4 and 5 digits over a wide range would need millions of slots: kept to narrower ranges.
  const std::size_t ranges = s.digits >= 5 ? 2 : s.digits == 4 ? 3 : std::size(kRange);
  s.highest = s.lowest * 2 + s.lowest * kRange[rng() % ranges];
  return s;
}

// Sparse or dense, small or large counts, values spread over the range (a narrower receiver
// gets some past its own: overflow).
HdrHistogram random_histogram(const Settings& s, std::mt19937_64& rng) {
  HdrHistogram h(s.lowest, s.highest, s.digits);
  const int n = static_cast<int>(rng() % 400);
  std::lognormal_distribution<double> ln(std::log(double(s.highest) / 1000 + 1), 2.0);
  for (int i = 0; i < n; ++i) {
    const int64_t v = std::llround(ln(rng));
    const int64_t count = rng() % 8 == 0 ? int64_t(rng() % 1'000'000) : 1 + int64_t(rng() % 3);
    h.record(std::min(v, s.highest), count);
  }
  return h;
}

void expect_same(const HdrHistogram& a, const HdrHistogram& b) {
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.total_count(), b.total_count());
  EXPECT_EQ(a.overflow_count(), b.overflow_count());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  for (double p : {0.0, 50.0, 99.0, 100.0}) {
    EXPECT_EQ(a.value_at_percentile(p), b.value_at_percentile(p)) << p;
  }
}

TEST(MergeEncoded, CheckedEncodingAddsExactlyAsDecodeThenAdd) {
  std::mt19937_64 rng(2026);
  for (int round = 0; round < 300; ++round) {
    const Settings from = random_settings(rng);
    // Half the time the receiver has the sender's settings (the coordinator's case).
    const Settings to = rng() % 2 == 0 ? from : random_settings(rng);
    const HdrHistogram sent = random_histogram(from, rng);
    HdrHistogram expected = random_histogram(to, rng);  // the receiver already holds counts
    HdrHistogram got = expected;
    const std::string bytes = rng() % 2 == 0 ? sent.encode_compressed() : sent.encode();

    auto decoded = HdrHistogram::decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    auto checked = HdrHistogram::check_encoded(bytes);
    ASSERT_TRUE(checked.ok()) << checked.error();
    EXPECT_EQ(checked->total_count, sent.total_count());
    EXPECT_EQ(checked->lowest_discernible, from.lowest);
    EXPECT_EQ(checked->highest_trackable, from.highest);
    EXPECT_EQ(checked->significant_digits, from.digits);

    HdrHistogram got_checked = expected;
    const bool fit = expected.add(decoded.value());
    auto added = got.add_encoded(checked->plain);
    ASSERT_TRUE(added.ok()) << added.error();
    EXPECT_EQ(*added, fit) << "round " << round;
    expect_same(got, expected);
    // add_checked: the same, from the one walk of a payload check_encoded already checked.
    auto added_checked = got_checked.add_checked(*checked);
    ASSERT_TRUE(added_checked.ok()) << added_checked.error();
    EXPECT_EQ(*added_checked, fit) << "round " << round;
    expect_same(got_checked, expected);
    if (::testing::Test::HasFailure()) {
      FAIL() << "round " << round << ": " << from.lowest << ".." << from.highest << "/"
             << from.digits << " into " << to.lowest << ".." << to.highest << "/" << to.digits;
    }
  }
}

std::string zigzag(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  std::string out;
  while (z >= 0x80) {
    out += static_cast<char>((z & 0x7f) | 0x80);
    z >>= 7;
  }
  out += static_cast<char>(z);
  return out;
}

std::string be32(uint32_t v) {
  std::string out;
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
  return out;
}

TEST(MergeEncoded, MalformedEncodingsAreRefusedAsDecodeRefusesThem) {
  std::mt19937_64 rng(7);
  const HdrHistogram h = random_histogram({1, 3'600'000'000, 3}, rng);
  const std::string plain = h.encode();
  const std::string compressed = h.encode_compressed();
  std::vector<std::string> bad = {
      "",
      "abc",
      be32(0xdeadbeef) + std::string(60, '\0'),
      be32(0x1c849308) + std::string(60, '\0'),  // V0
      plain.substr(0, 39),                       // header cut
      plain.substr(0, plain.size() - 1),         // payload cut
      compressed.substr(0, compressed.size() / 2),
  };
  std::string lying = plain;  // payload length beyond the bytes there
  lying.replace(4, 4, be32(static_cast<uint32_t>(plain.size())));
  bad.push_back(lying);
  const std::string run = zigzag(-100'000'000) + zigzag(1);  // empty slots past the layout
  std::string run_past = plain.substr(0, 40) + run;
  run_past.replace(4, 4, be32(static_cast<uint32_t>(run.size())));
  bad.push_back(run_past);
  std::string past_end = plain.substr(0, 40) + zigzag(-23'551) + zigzag(1) + zigzag(1);
  past_end.replace(4, 4, be32(static_cast<uint32_t>(past_end.size() - 40)));
  bad.push_back(past_end);  // a count one slot past the 23,552 of 1 us .. 1 h / 3 digits
  std::string bad_zlib = compressed;
  bad_zlib[8] = 0;  // the zlib header's CMF byte: not DEFLATE
  bad.push_back(bad_zlib);
  std::string settings = plain;  // 0 significant digits
  settings.replace(12, 4, be32(0));
  bad.push_back(settings);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    auto decoded = HdrHistogram::decode(bad[i]);
    auto checked = HdrHistogram::check_encoded(bad[i]);
    ASSERT_FALSE(decoded.ok()) << i;
    ASSERT_FALSE(checked.ok()) << i;
    EXPECT_EQ(checked.error(), decoded.error()) << i;
    HdrHistogram into = h;
    EXPECT_FALSE(into.add_encoded(bad[i]).ok()) << i;
    expect_same(into, h);
  }
  // The counts limit is the decoder's.
  auto limited = HdrHistogram::check_encoded(plain, 1000);
  ASSERT_FALSE(limited.ok());
  EXPECT_NE(limited.error().find("above the limit"), std::string::npos) << limited.error();
}

// A worker's group with every fixed metric, server metrics, overflow and samples.
GroupStats random_group(const std::string& model, std::mt19937_64& rng) {
  GroupStats g(Labels{{"model", model}});
  std::lognormal_distribution<double> seconds(std::log(1'000'000.0), 0.8);
  for (Metric m : kAllMetrics) {
    const int n = static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      const int64_t v = is_time(m) ? std::llround(seconds(rng)) : int64_t(rng() % 5000);
      g.record(m, v);
    }
    if (rng() % 4 == 0) g.record(m, int64_t(1) << 60);  // overflow
  }
  for (int i = 0; i < 50; ++i) {
    g.record_server("server.queue_ms", int64_t(rng() % 100'000));
    g.record_server("server.tokens_per_s", int64_t(rng() % 2'000));
  }
  g.counters.requests = 9;
  g.counters.ok = 9;
  g.record_error(ErrorKind::kConnectTimeout, "connect over 10 s");  // requests 10, failed 1
  return g;
}

// Every figure and encoding of `a` and `b` is the same (they may hold different slot ranges).
void expect_identical(const HdrHistogram& a, const HdrHistogram& b, const std::string& where) {
  SCOPED_TRACE(where);
  expect_same(a, b);
  EXPECT_EQ(a.encode(), b.encode());
  EXPECT_EQ(a.encode_compressed(), b.encode_compressed());
  EXPECT_EQ(a.mean(), b.mean());
  EXPECT_EQ(a.stddev(), b.stddev());
  const auto ab = a.recorded_buckets(), bb = b.recorded_buckets();
  ASSERT_EQ(ab.size(), bb.size());
  for (std::size_t i = 0; i < ab.size(); ++i) {
    EXPECT_EQ(ab[i].value, bb[i].value);
    EXPECT_EQ(ab[i].count, bb[i].count);
    EXPECT_EQ(a.count_at_value(ab[i].value), b.count_at_value(ab[i].value));
  }
  const auto ap = a.percentiles(5), bp = b.percentiles(5);
  ASSERT_EQ(ap.size(), bp.size());
  for (std::size_t i = 0; i < ap.size(); ++i) {
    EXPECT_EQ(ap[i].percentile, bp[i].percentile);
    EXPECT_EQ(ap[i].value, bp[i].value);
    EXPECT_EQ(ap[i].cumulative_count, bp[i].cumulative_count);
  }
  for (double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    EXPECT_EQ(a.value_at_percentile(p), b.value_at_percentile(p)) << p;
  }
}

// A histogram holding only the range its counts span (HdrHistogram::growing, what the
// coordinator's interval and cumulative groups hold) against the full layout, through the same
// random mix of writes: records, corrected records, add() (same and other settings),
// add_encoded, add_checked, resets. Counts, percentiles, min/max/mean/stddev, iteration and
// both encodings must stay identical, with never more slots held than the full layout.
TEST(MergeEncoded, GrowingHistogramsEqualFullLayoutOnes) {
  std::mt19937_64 rng(4242);
  for (int round = 0; round < 120; ++round) {
    const Settings s = random_settings(rng);
    HdrHistogram full(s.lowest, s.highest, s.digits);
    HdrHistogram grown = HdrHistogram::growing(s.lowest, s.highest, s.digits);
    EXPECT_EQ(grown.slots_held(), 0u);
    expect_identical(full, grown, "empty");
    for (int op = 0; op < 12; ++op) {
      const std::string where = "round " + std::to_string(round) + " op " + std::to_string(op);
      switch (rng() % 7) {
        case 0: {  // records, some out of range
          std::lognormal_distribution<double> ln(std::log(double(s.highest) / 100 + 1), 1.5);
          for (int i = 0, n = int(rng() % 50); i < n; ++i) {
            const int64_t v = std::llround(ln(rng)) - (rng() % 40 == 0 ? s.highest : 0);
            const int64_t c = 1 + int64_t(rng() % 4);
            EXPECT_EQ(full.record(v, c), grown.record(v, c));
          }
          break;
        }
        case 1: {
          const int64_t v = std::min<int64_t>(s.highest, int64_t(rng() % 100'000));
          const int64_t interval = 1 + int64_t(rng() % 10'000);
          EXPECT_EQ(full.record_corrected(v, interval), grown.record_corrected(v, interval));
          break;
        }
        case 2: {  // add(), same settings: both the full layout and a growing one as source
          HdrHistogram other = random_histogram(s, rng);
          HdrHistogram other_grown = HdrHistogram::growing(s.lowest, s.highest, s.digits);
          other_grown.add(other);
          EXPECT_EQ(full.add(other_grown), grown.add(other));
          break;
        }
        case 3: {  // add(), other settings (re-recorded bucket by bucket; overflow)
          HdrHistogram other = random_histogram(random_settings(rng), rng);
          EXPECT_EQ(full.add(other), grown.add(other));
          break;
        }
        case 4: {
          const std::string bytes = random_histogram(s, rng).encode_compressed();
          auto a = full.add_encoded(bytes);
          auto b = grown.add_encoded(bytes);
          ASSERT_TRUE(a.ok() && b.ok());
          EXPECT_EQ(*a, *b);
          break;
        }
        case 5: {
          const Settings from = rng() % 3 == 0 ? random_settings(rng) : s;
          auto checked = HdrHistogram::check_encoded(random_histogram(from, rng).encode());
          ASSERT_TRUE(checked.ok()) << checked.error();
          auto a = full.add_checked(*checked);
          auto b = grown.add_checked(*checked);
          ASSERT_TRUE(a.ok() && b.ok());
          EXPECT_EQ(*a, *b);
          break;
        }
        case 6:
          if (rng() % 3 == 0) {
            full.reset();
            grown.reset();
          }
          break;
      }
      expect_identical(full, grown, where);
      EXPECT_LE(grown.slots_held(), full.slots_held());
      // Decoding either gives the same histogram (holding only its non-empty range; the
      // encoding does not carry the overflow count).
      auto decoded = HdrHistogram::decode(grown.encode());
      auto decoded_full = HdrHistogram::decode(full.encode());
      ASSERT_TRUE(decoded.ok() && decoded_full.ok());
      expect_identical(*decoded_full, *decoded, where + " decoded");
      if (::testing::Test::HasFailure()) {
        FAIL() << where << ": " << s.lowest << ".." << s.highest << "/" << s.digits;
      }
    }
  }
}

// A Checked whose header was changed after check_encoded is refused by add_checked (nothing
// added), not trusted.
TEST(MergeEncoded, AddCheckedRefusesATamperedHeader) {
  HdrHistogram h = HdrHistogram::for_micros();
  h.record(1'000'000, 3);
  auto checked = HdrHistogram::check_encoded(h.encode());
  ASSERT_TRUE(checked.ok());
  HdrHistogram::Checked bad = *checked;
  bad.plain.resize(20);  // the header cut
  HdrHistogram into = HdrHistogram::for_micros();
  auto added = into.add_checked(bad);
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.error().find("truncated"), std::string::npos) << added.error();
  EXPECT_EQ(into.total_count(), 0);
  // Slots that no longer match the payload: an Error, nothing written outside the slots held.
  HdrHistogram::Checked moved = *checked;
  moved.first_slot = moved.top_slot = 0;
  HdrHistogram grown = HdrHistogram::growing_micros();
  auto refused = grown.add_checked(moved);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("changed after check_encoded"), std::string::npos)
      << refused.error();
}

// Counts past the receiver's range (same bucket structure, a lower highest trackable value):
// add_checked gives add_encoded's figures, max included (found by hdr_decode_fuzz: the max was
// taken from the top of the range instead of the highest slot within it).
TEST(MergeEncoded, AddCheckedPastTheReceiversRangeEqualsAddEncoded) {
  HdrHistogram sent = HdrHistogram::for_micros();
  for (int64_t v : {int64_t{5}, int64_t{900}, int64_t{123'456}, int64_t{999'000},
                    int64_t{1'500'000}, int64_t{3'000'000'000}})
    sent.record(v, 2);
  auto checked = HdrHistogram::check_encoded(sent.encode_compressed());
  ASSERT_TRUE(checked.ok());
  HdrHistogram via_encoded(1, 1'000'000, 3), via_checked(1, 1'000'000, 3);
  HdrHistogram grown = HdrHistogram::growing(1, 1'000'000, 3);
  auto a = via_encoded.add_encoded(checked->plain);
  auto b = via_checked.add_checked(*checked);
  auto c = grown.add_checked(*checked);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(*a);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(via_encoded.overflow_count(), 4);
  expect_identical(via_checked, via_encoded, "add_checked");
  expect_identical(grown, via_encoded, "growing add_checked");
}

TEST(MergeEncoded, GroupStatsKeptEncodedMergeAsDecodedOnes) {
  std::mt19937_64 rng(18);
  WireLimits encoded;
  encoded.keep_encoded = true;
  GroupStats via_decode(Labels{{"model", "m"}}), via_encoded(Labels{{"model", "m"}});
  for (int report = 0; report < 40; ++report) {
    const nlohmann::json wire = random_group("m", rng).to_wire();
    auto d = GroupStats::from_wire(wire);
    ASSERT_TRUE(d.ok()) << d.error();
    auto e = GroupStats::from_wire(wire, encoded);
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_FALSE(e->encoded_histograms().empty());
    EXPECT_FALSE(e->empty());
    via_decode.merge(*d);
    via_encoded.merge(*e);
    ASSERT_TRUE(via_encoded == via_decode) << "report " << report;
  }
  EXPECT_GT(via_encoded.count(Metric::kTtft), 0);
  EXPECT_EQ(via_encoded.server_histograms().size(), 2u);
  // An encoded group merged into a fresh one equals its decoded twin.
  const nlohmann::json wire = random_group("m", rng).to_wire();
  GroupStats fresh(Labels{{"model", "m"}});
  fresh.merge(GroupStats::from_wire(wire, encoded).value());
  EXPECT_TRUE(fresh == GroupStats::from_wire(wire).value());
}

TEST(MergeEncoded, GroupStatsKeptEncodedRefuseWhatDecodingRefuses) {
  std::mt19937_64 rng(5);
  const nlohmann::json good = random_group("m", rng).to_wire();
  std::vector<nlohmann::json> bad;
  auto with = [&](const std::string& metric, const nlohmann::json& value) {
    nlohmann::json j = good;
    j["histograms"][metric] = value;
    bad.push_back(j);
  };
  with("ttft",
       {{"hdr", nlohmann::json::binary(std::vector<std::uint8_t>{1, 2, 3})}, {"overflow", 0}});
  with("ttft", {{"hdr", 12}, {"overflow", 0}});
  with("ttft", {{"hdr", "HISTF!!!"}, {"overflow", 0}});
  with("ttft", {{"overflow", 0}});
  HdrHistogram wrong(1, 1000, 2);
  wrong.record(5);
  const std::string w = wrong.encode_compressed();
  with("ttft", {{"hdr", nlohmann::json::binary(std::vector<std::uint8_t>(w.begin(), w.end()))},
                {"overflow", 0}});
  HdrHistogram huge = HdrHistogram::for_micros();
  huge.record(1000, int64_t(1) << 55);  // total count past the wire bound
  const std::string hb = huge.encode_compressed();
  with("e2e", {{"hdr", nlohmann::json::binary(std::vector<std::uint8_t>(hb.begin(), hb.end()))},
               {"overflow", 0}});
  with("no_such_metric", good["histograms"]["ttft"]);
  with("server.x", {{"hdr", 1}, {"overflow", -1}});
  WireLimits encoded;
  encoded.keep_encoded = true;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    auto d = GroupStats::from_wire(bad[i]);
    auto e = GroupStats::from_wire(bad[i], encoded);
    ASSERT_FALSE(d.ok()) << i;
    ASSERT_FALSE(e.ok()) << i;
    EXPECT_EQ(e.error(), d.error()) << i;
  }
  WireLimits few = encoded;
  few.max_server_metrics = 1;
  auto e = GroupStats::from_wire(good, few);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(), GroupStats::from_wire(good, WireLimits{.max_server_metrics = 1}).error());
  // A base64 text histogram (a foreign peer's) is accepted and merges the same.
  nlohmann::json text = good;
  HdrHistogram t = HdrHistogram::for_micros();
  t.record(1'234'567, 3);
  text["histograms"]["ttft"]["hdr"] = t.to_base64();
  GroupStats a, b;
  a.merge(GroupStats::from_wire(text).value());
  b.merge(GroupStats::from_wire(text, encoded).value());
  EXPECT_TRUE(a == b);
}

// The coordinator's path end to end: REPORT frames decoded with keep_encoded into LiveMerge give
// the same cumulative groups, worker totals and interval rows as fully decoded ones.
TEST(MergeEncoded, LiveMergeOfEncodedReportsEqualsDecodedReports) {
  std::mt19937_64 rng(1000);
  constexpr std::size_t kWorkers = 3;
  coord::LiveMerge decoded(kWorkers), encoded(kWorkers);
  wire::DecodeLimits keep;
  keep.stats.keep_encoded = true;
  for (int64_t seq = 1; seq <= 4; ++seq) {
    for (std::size_t w = 0; w < kWorkers; ++w) {
      wire::Report r;
      r.run_id = "t";
      r.seq = seq;
      IntervalSnapshot s;
      s.start_ns = (seq - 1) * 1'000'000'000;
      s.end_ns = seq * 1'000'000'000;
      for (int g = 0; g < 3; ++g) s.groups.push_back(random_group("g" + std::to_string(g), rng));
      r.snapshot = std::move(s);
      const wire::Frames f = wire::encode(r);
      auto a = wire::decode(f.type, f.body);
      auto b = wire::decode(f.type, f.body, keep);
      ASSERT_TRUE(a.ok()) << a.error();
      ASSERT_TRUE(b.ok()) << b.error();
      ASSERT_TRUE(decoded.add(w, seq, std::move(*std::get<wire::Report>(*a).snapshot), 0));
      ASSERT_TRUE(encoded.add(w, seq, std::move(*std::get<wire::Report>(*b).snapshot), 0));
    }
    auto da = decoded.take_through(seq);
    auto ea = encoded.take_through(seq);
    ASSERT_EQ(da.size(), 1u);
    ASSERT_EQ(ea.size(), 1u);
    EXPECT_TRUE(ea[0].total == da[0].total);
    EXPECT_EQ(ea[0].groups.size(), 3u);
    for (const auto& [key, g] : da[0].groups) EXPECT_TRUE(ea[0].groups.at(key) == g) << key;
  }
  EXPECT_EQ(encoded.groups().size(), 3u);
  for (const auto& [key, g] : decoded.groups()) EXPECT_TRUE(encoded.groups().at(key) == g) << key;
  for (std::size_t w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(encoded.worker_totals(w), decoded.worker_totals(w));
  }
  EXPECT_TRUE(encoded.total() == decoded.total());
  EXPECT_EQ(encoded.total().count(Metric::kE2e), decoded.total().count(Metric::kE2e));
}

// The coordinator's interval and cumulative groups hold the range their values span, not the
// full layout: for seconds-scale values (ttft around 1 s, e2e 5-20 s) a few buckets of the
// 23,552 slots. Their figures equal those of full-layout histograms fed the same values.
TEST(MergeEncoded, LiveMergeGroupsHoldOnlyTheRangeTheirValuesSpan) {
  std::mt19937_64 rng(77);
  constexpr std::size_t kWorkers = 20;
  coord::LiveMerge merge(kWorkers);
  wire::DecodeLimits keep;
  keep.stats.keep_encoded = true;
  HdrHistogram ttft_full = HdrHistogram::for_micros(), e2e_full = HdrHistogram::for_micros();
  HdrHistogram ttft_interval = HdrHistogram::for_micros();
  std::lognormal_distribution<double> ttft(std::log(1e6), 0.4);
  std::uniform_int_distribution<int64_t> e2e(5'000'000, 20'000'000);
  for (int64_t seq = 1; seq <= 3; ++seq) {
    ttft_interval.reset();
    for (std::size_t w = 0; w < kWorkers; ++w) {
      IntervalSnapshot s;
      s.start_ns = (seq - 1) * 1'000'000'000;
      s.end_ns = seq * 1'000'000'000;
      GroupStats& g = s.group(Labels{{"model", "m"}});
      for (int i = 0; i < 10; ++i) {
        const int64_t t = std::llround(ttft(rng)), e = e2e(rng);
        g.counters.requests += 1;
        g.counters.ok += 1;
        g.record(Metric::kTtft, t);
        g.record(Metric::kE2e, e);
        ttft_full.record(t);
        ttft_interval.record(t);
        e2e_full.record(e);
      }
      s.client.loop_lag_us.record(int64_t(rng() % 5'000));
      wire::Report r;
      r.run_id = "t";
      r.seq = seq;
      r.snapshot = std::move(s);
      const wire::Frames f = wire::encode(r);
      auto d = wire::decode(f.type, f.body, keep);
      ASSERT_TRUE(d.ok()) << d.error();
      ASSERT_TRUE(merge.add(w, seq, std::move(*std::get<wire::Report>(*d).snapshot), 0));
    }
    auto taken = merge.take_through(seq);
    ASSERT_EQ(taken.size(), 1u);
    const HdrHistogram* iv = taken[0].groups.at("model=m").histogram(Metric::kTtft);
    ASSERT_NE(iv, nullptr);
    expect_identical(*iv, ttft_interval, "interval " + std::to_string(seq));
    EXPECT_LT(iv->slots_held(), ttft_full.slots_held() / 4) << iv->slots_held();
  }
  const GroupStats& cumulative = merge.groups().at("model=m");
  expect_identical(*cumulative.histogram(Metric::kTtft), ttft_full, "cumulative ttft");
  expect_identical(*cumulative.histogram(Metric::kE2e), e2e_full, "cumulative e2e");
  EXPECT_LT(cumulative.histogram(Metric::kTtft)->slots_held(), ttft_full.slots_held() / 4);
  EXPECT_LT(cumulative.histogram(Metric::kE2e)->slots_held(), e2e_full.slots_held() / 4);
  // The per-worker client timing too (the coordinator keeps one per worker).
  EXPECT_EQ(merge.worker_client(0).loop_lag_us.total_count(), 3);
  EXPECT_LT(merge.worker_client(0).loop_lag_us.slots_held(), ttft_full.slots_held() / 4);
  EXPECT_LT(merge.client().uncertain_window_us.slots_held(), ttft_full.slots_held() / 4);
}

}  // namespace
}  // namespace llmload
