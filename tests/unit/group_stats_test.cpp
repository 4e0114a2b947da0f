#include "common/group_stats.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace llmload {
namespace {

using nlohmann::json;

// Records a deterministic pseudo-random request mix into `g`.
void record_mix(GroupStats& g, uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> latency(10.0, 1.0);  // ~22 ms median, long tail
  for (int i = 0; i < n; ++i) {
    int64_t ttft = int64_t(latency(rng));
    g.record(Metric::kTtft, ttft);
    g.record(Metric::kE2e, ttft + int64_t(latency(rng)) * 4);
    for (int t = 0; t < 5; ++t) g.record(Metric::kItl, int64_t(rng() % 50'000));
    int64_t tokens = 1 + rng() % 300;
    g.record(Metric::kOutputTokens, tokens);
    g.record_server("server.eval_ms", int64_t(rng() % 1'000'000));
    g.counters.output_tokens += tokens;
    if (rng() % 10 == 0) {
      g.record_error(ErrorKind::kHttp5xx, "status 503 #" + std::to_string(i));
    } else {
      g.counters.requests++;
      g.counters.ok++;
      if (rng() % 2) g.counters.goodput++;
    }
  }
  g.record(Metric::kTtft, -5);  // overflow: counted, not recorded
}

TEST(GroupStats, RecordCountsAndOverflow) {
  GroupStats g(Labels{{"model", "m"}});
  EXPECT_EQ(g.histogram(Metric::kTtft), nullptr);
  EXPECT_TRUE(g.empty());
  EXPECT_TRUE(g.record(Metric::kTtft, 1234));
  EXPECT_TRUE(g.record_ns(Metric::kTtft, 2'000'400));
  ASSERT_NE(g.histogram(Metric::kTtft), nullptr);
  EXPECT_EQ(g.count(Metric::kTtft), 2);
  EXPECT_EQ(g.histogram(Metric::kTtft)->max(),
            g.histogram(Metric::kTtft)->highest_equivalent(2000));
  EXPECT_FALSE(g.record(Metric::kOutputTokens, 20'000'000));
  EXPECT_EQ(g.overflow(Metric::kOutputTokens), 1);
  EXPECT_EQ(g.count(Metric::kOutputTokens), 0);
  EXPECT_FALSE(g.record_server("not.server", 1));
  EXPECT_TRUE(g.server_histograms().empty());
  EXPECT_FALSE(g.empty());
}

TEST(GroupStats, ErrorSamplesAreBoundedAndCutOnACharacterBoundary) {
  GroupStats g;
  for (int i = 0; i < 8; ++i) g.record_error(ErrorKind::kReset, "reset " + std::to_string(i));
  EXPECT_EQ(g.counters.requests, 8);
  EXPECT_EQ(g.counters.failed, 8);
  EXPECT_EQ(g.counters.errors[static_cast<std::size_t>(ErrorKind::kReset)], 8);
  ASSERT_EQ(g.error_samples(ErrorKind::kReset).size(), GroupStats::kMaxSamplesPerKind);
  EXPECT_EQ(g.error_samples(ErrorKind::kReset)[0], "reset 0");

  // 'é' is two bytes; put one across the cut.
  std::string long_msg(GroupStats::kMaxSampleBytes - 1, 'x');
  long_msg += "\xc3\xa9 and more";
  g.add_error_sample(ErrorKind::kProtocol, long_msg);
  const std::string& kept = g.error_samples(ErrorKind::kProtocol).at(0);
  EXPECT_EQ(kept.size(), GroupStats::kMaxSampleBytes - 1);
  EXPECT_EQ(kept, std::string(GroupStats::kMaxSampleBytes - 1, 'x'));
}

TEST(GroupStats, MergeEqualsRecordingIntoOneInEitherOrder) {
  GroupStats a(Labels{{"model", "m"}}), b(Labels{{"model", "m"}}), all(Labels{{"model", "m"}});
  record_mix(a, 1, 500);
  record_mix(b, 2, 700);
  record_mix(all, 1, 500);
  record_mix(all, 2, 700);
  b.record(Metric::kQueue, 77);  // a metric only one side has
  all.record(Metric::kQueue, 77);

  GroupStats ab = a;
  ab.merge(b);
  GroupStats ba = b;
  ba.merge(a);
  // Samples keep the first ones in merge order; compare without them.
  auto strip = [](GroupStats g) {
    GroupStats out(g.labels);
    out.counters = g.counters;
    for (Metric m : kAllMetrics) {
      if (auto* h = g.histogram(m)) out.add_histogram(name(m), *h, g.overflow(m));
    }
    for (const auto& [n, h] : g.server_histograms()) out.add_histogram(n, h, g.server_overflow(n));
    return out;
  };
  EXPECT_TRUE(strip(ab) == strip(all));
  EXPECT_TRUE(strip(ba) == strip(all));
  EXPECT_TRUE(ab == all);  // a recorded first in `all` too, so even samples agree
  EXPECT_EQ(ab.counters.requests, 1200);
  EXPECT_EQ(ab.count(Metric::kTtft), 1200);
  EXPECT_EQ(ab.overflow(Metric::kTtft), 2);
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(ab.histogram(Metric::kE2e)->value_at_percentile(p),
              all.histogram(Metric::kE2e)->value_at_percentile(p));
    EXPECT_EQ(ba.histogram(Metric::kItl)->value_at_percentile(p),
              all.histogram(Metric::kItl)->value_at_percentile(p));
  }
  EXPECT_EQ(ab.server_histograms().at("server.eval_ms").total_count(), 1200);
  EXPECT_LE(ab.error_samples(ErrorKind::kHttp5xx).size(), GroupStats::kMaxSamplesPerKind);
}

TEST(GroupStats, ResetKeepsLabelsAndHistogramsWithoutReallocating) {
  GroupStats g(Labels{{"target", "t"}});
  record_mix(g, 3, 50);
  const HdrHistogram* before = g.histogram(Metric::kTtft);
  g.reset();
  EXPECT_TRUE(g.empty());
  EXPECT_EQ(g.labels.at("target"), "t");
  EXPECT_EQ(g.histogram(Metric::kTtft), before);
  EXPECT_EQ(g.count(Metric::kTtft), 0);
  EXPECT_EQ(g.overflow(Metric::kTtft), 0);
  EXPECT_TRUE(g.error_samples(ErrorKind::kHttp5xx).empty());
  EXPECT_TRUE(g == GroupStats(Labels{{"target", "t"}}));
}

TEST(GroupStats, WireRoundTripThroughMessagePack) {
  GroupStats g(Labels{{"model", "llama"}, {"target", "http://127.0.0.1:1"}});
  record_mix(g, 4, 300);
  g.counters.retries = 3;
  g.counters.dropped = 9;
  g.counters.bytes_received = 123456;
  g.counters.tokens_from_usage = 200;
  g.record_server("server.eval_count", 20'000'000);  // overflow on a server metric
  std::vector<std::uint8_t> bytes = json::to_msgpack(g.to_wire());
  json back = json::from_msgpack(bytes);
  ASSERT_TRUE(back["histograms"]["ttft"]["hdr"].is_binary());
  auto decoded = GroupStats::from_wire(back);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_TRUE(*decoded == g);
  EXPECT_EQ(decoded->server_overflow("server.eval_count"), 1);
  EXPECT_EQ(decoded->overflow(Metric::kTtft), 1);
}

TEST(GroupStats, WireAcceptsBase64HistogramsToo) {
  GroupStats g;
  g.record(Metric::kTtft, 500);
  g.counters.requests = g.counters.ok = 1;
  json j = g.to_wire();
  j["histograms"]["ttft"]["hdr"] = g.histogram(Metric::kTtft)->to_base64();
  auto decoded = GroupStats::from_wire(j);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_TRUE(*decoded == g);
}

// Hostile input: each mutation must be rejected with a message naming the field.
TEST(GroupStats, FromWireRejectsHostileInputNamingTheField) {
  GroupStats g(Labels{{"model", "m"}});
  record_mix(g, 5, 20);
  const json good = g.to_wire();
  ASSERT_TRUE(GroupStats::from_wire(good).ok());

  struct Case {
    const char* what;
    std::function<void(json&)> mutate;
    const char* field;
  };
  std::string tokens_hdr = make_histogram(Metric::kOutputTokens).to_base64();
  std::vector<Case> cases = {
      {"not an object", [](json& j) { j = json::array(); }, "expected an object"},
      {"missing counters", [](json& j) { j.erase("counters"); }, "counters: missing"},
      {"negative", [](json& j) { j["counters"]["ok"] = -1; }, "counters.ok"},
      {"string count", [](json& j) { j["counters"]["retries"] = "3"; }, "counters.retries"},
      {"float count", [](json& j) { j["counters"]["dropped"] = 1.5; }, "counters.dropped"},
      {"huge count", [](json& j) { j["counters"]["bytes_received"] = UINT64_MAX; },
       "counters.bytes_received"},
      {"requests != ok+failed", [](json& j) { j["counters"]["requests"] = 1; }, "counters"},
      {"errors do not add up", [](json& j) { j["counters"]["errors"]["dns"] = 1; },
       "counters.errors"},
      {"unknown error kind", [](json& j) { j["counters"]["errors"]["oops"] = 0; },
       "counters.errors.oops"},
      {"goodput > ok", [](json& j) { j["counters"]["goodput"] = 1'000'000; }, "counters.goodput"},
      {"unknown metric", [](json& j) { j["histograms"]["latency"] = j["histograms"]["ttft"]; },
       "histograms.latency"},
      {"corrupt histogram",
       [](json& j) {
         j["histograms"]["ttft"]["hdr"] = json::binary({1, 2, 3, 4, 5, 6, 7, 8});
       },
       "histograms.ttft.hdr: not a valid histogram"},
      {"wrong settings", [&](json& j) { j["histograms"]["ttft"]["hdr"] = tokens_hdr; },
       "histograms.ttft.hdr: settings"},
      {"hdr of wrong type", [](json& j) { j["histograms"]["itl"]["hdr"] = 12; },
       "histograms.itl.hdr"},
      {"missing overflow", [](json& j) { j["histograms"]["itl"].erase("overflow"); },
       "histograms.itl.overflow: missing"},
      {"label not a string", [](json& j) { j["labels"]["model"] = 1; }, "labels.model"},
      {"too many samples",
       [](json& j) {
         j["samples"]["http_5xx"] = json::array({"a", "b", "c", "d", "e", "f"});
       },
       "samples.http_5xx"},
      {"sample not a string", [](json& j) { j["samples"]["reset"] = json::array({1}); },
       "samples.reset[0]"},
  };
  for (const auto& c : cases) {
    json j = good;
    c.mutate(j);
    auto r = GroupStats::from_wire(j);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.error().find(c.field), std::string::npos) << c.what << ": " << r.error();
  }

  WireLimits small;
  small.max_labels = 0;
  auto r = GroupStats::from_wire(good, small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("labels"), std::string::npos) << r.error();
}

TEST(IntervalSnapshot, WireRoundTripAndChecks) {
  IntervalSnapshot s;
  s.start_ns = 1'000;
  s.end_ns = 1'000'001'000;
  s.in_flight = 12;
  s.loop_lag_us_max = 345;
  s.loop_busy_fraction = 0.25;
  record_mix(s.group({{"model", "a"}}), 6, 40);
  record_mix(s.group({{"model", "b"}}), 7, 60);
  EXPECT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(&s.group({{"model", "a"}}), &s.groups[0]);

  auto back = IntervalSnapshot::from_wire(json::from_msgpack(json::to_msgpack(s.to_wire())));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(*back == s);
  EXPECT_EQ(back->total().counters.requests, 100);
  EXPECT_EQ(back->total().count(Metric::kTtft), 100);

  json bad = s.to_wire();
  bad["end_ns"] = 0;
  auto r = IntervalSnapshot::from_wire(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("end_ns"), std::string::npos) << r.error();

  bad = s.to_wire();
  bad["groups"][1]["labels"] = bad["groups"][0]["labels"];
  r = IntervalSnapshot::from_wire(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("groups[1]: duplicate labels"), std::string::npos) << r.error();

  bad = s.to_wire();
  bad["groups"][1]["counters"]["ok"] = "x";
  r = IntervalSnapshot::from_wire(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("groups[1].counters.ok"), std::string::npos) << r.error();

  bad = s.to_wire();
  bad["loop_busy_fraction"] = 2.0;
  EXPECT_FALSE(IntervalSnapshot::from_wire(bad).ok());

  WireLimits one;
  one.max_groups = 1;
  r = IntervalSnapshot::from_wire(s.to_wire(), one);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("groups"), std::string::npos);
}

ClientTiming client_sample(int64_t reads, int64_t kernel, int64_t values, int64_t uncertain) {
  ClientTiming c;
  c.token_reads = reads;
  c.token_reads_kernel = kernel;
  c.timing_values = values;
  c.timing_uncertain = uncertain;
  for (int64_t i = 0; i < uncertain / 2; ++i) c.uncertain_window_us.record(1'000 + 10 * i);
  for (int64_t i = 1; i <= 100; ++i) c.loop_lag_us.record(i * 100);
  return c;
}

TEST(ClientTiming, SourceAndSharesFromTheCounts) {
  ClientTiming c;
  EXPECT_EQ(c.timestamps(), "none");
  EXPECT_EQ(c.kernel_share(), 0.0);
  EXPECT_EQ(c.uncertain_share(), 0.0);
  c = client_sample(10, 10, 40, 4);
  EXPECT_EQ(c.timestamps(), "kernel");
  EXPECT_DOUBLE_EQ(c.uncertain_share(), 0.1);
  c.token_reads_kernel = 0;
  EXPECT_EQ(c.timestamps(), "clock");
  c.token_reads_kernel = 4;
  EXPECT_EQ(c.timestamps(), "mixed");
  EXPECT_DOUBLE_EQ(c.kernel_share(), 0.4);
}

TEST(ClientTiming, MergeAddsCountsAndHistogramsExactly) {
  ClientTiming a = client_sample(10, 10, 40, 4);
  const ClientTiming b = client_sample(30, 0, 60, 10);
  a.merge(b);
  EXPECT_EQ(a.token_reads, 40);
  EXPECT_EQ(a.token_reads_kernel, 10);
  EXPECT_EQ(a.timing_values, 100);
  EXPECT_EQ(a.timing_uncertain, 14);
  EXPECT_EQ(a.uncertain_window_us.total_count(), 7);
  EXPECT_EQ(a.loop_lag_us.total_count(), 200);
  EXPECT_EQ(a.timestamps(), "mixed");
  a.reset();
  EXPECT_TRUE(a == ClientTiming{});
}

TEST(ClientTiming, InTheSnapshotWireAndRejectedNamingTheField) {
  IntervalSnapshot s;
  s.end_ns = 10;
  s.client = client_sample(10, 3, 40, 6);
  auto back = IntervalSnapshot::from_wire(json::from_msgpack(json::to_msgpack(s.to_wire())));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back->client == s.client);

  const json good = s.to_wire();
  struct Case {
    const char* what;
    void (*mutate)(json&);
    const char* field;
  };
  const Case cases[] = {
      {"no client", [](json& j) { j.erase("client"); }, "client"},
      {"kernel > reads", [](json& j) { j["client"]["token_reads_kernel"] = 11; },
       "client.token_reads_kernel"},
      {"uncertain > values", [](json& j) { j["client"]["timing_uncertain"] = 41; },
       "client.timing_uncertain"},
      {"negative count", [](json& j) { j["client"]["token_reads"] = -1; }, "client.token_reads"},
      {"more windows than uncertain values", [](json& j) { j["client"]["timing_uncertain"] = 2; },
       "client.uncertain_window_us"},
      {"no lag histogram", [](json& j) { j["client"].erase("loop_lag_us"); },
       "client.loop_lag_us"},
      {"lag histogram with the count settings",
       [](json& j) {
         HdrHistogram h(1, kCountHistogramHighest, kHistogramDigits);
         h.record(5);
         j["client"]["loop_lag_us"]["hdr"] = h.to_base64();
       },
       "client.loop_lag_us.hdr"},
  };
  for (const auto& c : cases) {
    json j = good;
    c.mutate(j);
    auto r = IntervalSnapshot::from_wire(j);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.error().find(c.field), std::string::npos) << c.what << ": " << r.error();
  }
}

TEST(GroupKey, JoinsLabelsInOrder) {
  EXPECT_EQ(group_key({{"target", "t"}, {"model", "m"}}), "model=m,target=t");
  EXPECT_EQ(group_key({}), "");
}

}  // namespace
}  // namespace llmload
