// Request timing on synthetic chunk sequences: what starts ttft, zero gaps for multi-token
// chunks, usage over counted tokens, rate-mode origins, goodput.
#include "worker/request_timing.h"

#include <gtest/gtest.h>

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr int64_t kMs = 1'000'000;

// The histogram of m holds exactly one value, equivalent to v.
bool holds(const GroupStats& g, Metric m, int64_t v) {
  const HdrHistogram* h = g.histogram(m);
  return h && h->total_count() == 1 && h->values_equivalent(h->max(), v);
}

ChunkInfo chunk(ChunkKind kind, int32_t tokens = 0) {
  ChunkInfo c;
  c.kind = kind;
  c.tokens = is_token_bearing(kind) ? (tokens > 0 ? tokens : 1) : 0;
  return c;
}

// Feeds a chunk the way the engine does: the adapter has updated StreamState already.
void feed(RequestTiming& t, StreamState& s, int64_t at, const ChunkInfo& c) {
  if (is_token_bearing(c.kind)) {
    s.counted_tokens += c.tokens;
    ++s.token_chunks;
  }
  if (c.has_usage) {
    s.usage_completion_tokens = c.completion_tokens;
    s.usage_prompt_tokens = c.prompt_tokens;
  }
  if (c.final) s.final_seen = true;
  t.on_chunk(at, c);
}

TEST(RequestTiming, RoleOnlyEmptyAndUsageChunksDoNotStartTtft) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(100 * kMs);
  t.on_first_byte(101 * kMs);
  feed(t, s, 102 * kMs, chunk(ChunkKind::role_only));
  feed(t, s, 103 * kMs, chunk(ChunkKind::empty));
  ChunkInfo usage = chunk(ChunkKind::usage_only);
  feed(t, s, 104 * kMs, usage);
  feed(t, s, 105 * kMs, chunk(ChunkKind::other));
  EXPECT_FALSE(t.ttft());
  feed(t, s, 150 * kMs, chunk(ChunkKind::content));
  feed(t, s, 160 * kMs, chunk(ChunkKind::content));
  t.on_end(170 * kMs);
  EXPECT_EQ(*t.ttfb(), 1 * kMs);
  EXPECT_EQ(*t.ttft(), 50 * kMs);
  EXPECT_EQ(*t.ttfo(), 50 * kMs);
  EXPECT_EQ(*t.e2e(), 70 * kMs);
  ASSERT_EQ(t.gaps_us().size(), 1u);
  EXPECT_EQ(t.gaps_us()[0], 10'000);
}

TEST(RequestTiming, ReasoningStartsTtftButNotTtfo) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  feed(t, s, 20 * kMs, chunk(ChunkKind::reasoning));
  feed(t, s, 30 * kMs, chunk(ChunkKind::reasoning));
  feed(t, s, 45 * kMs, chunk(ChunkKind::content));
  t.on_end(50 * kMs);
  EXPECT_EQ(*t.ttft(), 20 * kMs);
  EXPECT_EQ(*t.ttfo(), 45 * kMs);
  EXPECT_EQ(t.itl_values(), 2);
}

TEST(RequestTiming, KTokenChunkAddsItsGapAndKMinusOneZeroGaps) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  feed(t, s, 10 * kMs, chunk(ChunkKind::content, 3));  // first: 2 zero gaps
  feed(t, s, 30 * kMs, chunk(ChunkKind::content, 4));  // gap 20 ms + 3 zero gaps
  feed(t, s, 35 * kMs, chunk(ChunkKind::content, 1));  // gap 5 ms
  t.on_end(40 * kMs);
  EXPECT_EQ(s.output_tokens().value, 8);
  EXPECT_EQ(t.zero_gaps(), 5);
  ASSERT_EQ(t.gaps_us().size(), 2u);
  EXPECT_EQ(t.gaps_us()[0], 20'000);
  EXPECT_EQ(t.gaps_us()[1], 5'000);
  EXPECT_EQ(t.itl_values(), s.output_tokens().value - 1);  // one value per token after the first

  GroupStats g;
  t.record_ok(g, s, RequestSlo{});
  const HdrHistogram* itl = g.histogram(Metric::kItl);
  ASSERT_NE(itl, nullptr);
  EXPECT_EQ(itl->total_count(), 7);
  EXPECT_EQ(itl->count_at_value(0), 5);
  EXPECT_EQ(g.counters.output_tokens, 8);
  EXPECT_EQ(g.counters.tokens_counted, 1);
  // tpot = (40 - 10) / 7 ms
  EXPECT_EQ(g.histogram(Metric::kTpot)->max(),
            g.histogram(Metric::kTpot)->highest_equivalent(ns_to_us(30 * kMs / 7)));
}

TEST(RequestTiming, UsageOverridesCountedTokens) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  for (int i = 1; i <= 5; ++i) feed(t, s, i * 10 * kMs, chunk(ChunkKind::content));
  ChunkInfo usage = chunk(ChunkKind::usage_only);
  usage.has_usage = true;
  usage.completion_tokens = 12;  // the server says 12 (the chunks held several tokens)
  usage.prompt_tokens = 40;
  feed(t, s, 60 * kMs, usage);
  t.on_end(61 * kMs);
  GroupStats g;
  t.record_ok(g, s, RequestSlo{});
  EXPECT_EQ(g.counters.output_tokens, 12);
  EXPECT_EQ(g.counters.input_tokens, 40);
  EXPECT_EQ(g.counters.tokens_from_usage, 1);
  EXPECT_EQ(g.counters.tokens_counted, 0);
  EXPECT_TRUE(holds(g, Metric::kOutputTokens, 12));
  // decode_tps = (12 - 1) / (61 - 10 ms)
  EXPECT_TRUE(holds(g, Metric::kDecodeTps, 216));
}

TEST(RequestTiming, RateModeMeasuresFromTheIntendedStart) {
  RequestTiming t;
  StreamState s;
  t.begin(true, 1000 * kMs, -1);
  t.on_sent(1030 * kMs);  // 30 ms late
  t.on_first_byte(1031 * kMs);
  feed(t, s, 1080 * kMs, chunk(ChunkKind::content));
  feed(t, s, 1090 * kMs, chunk(ChunkKind::content));
  t.on_end(1100 * kMs);
  EXPECT_EQ(*t.ttfb(), 1 * kMs);  // from the write
  EXPECT_EQ(*t.ttft(), 80 * kMs);
  EXPECT_EQ(*t.e2e(), 100 * kMs);
  GroupStats g;
  t.record_ok(g, s, RequestSlo{});
  EXPECT_TRUE(holds(g, Metric::kQueue, 30'000));
  EXPECT_TRUE(holds(g, Metric::kTtftSent, 50'000));
  EXPECT_TRUE(holds(g, Metric::kE2eSent, 70'000));
  EXPECT_TRUE(holds(g, Metric::kTtft, 80'000));
}

TEST(RequestTiming, TheWaitForAConnectionIsItsOwnFigureAndInNoOther) {
  // Started by its scheduler at 0, written at 700 ms (it waited for a connection), first byte
  // 10 ms after the write: ttfb, ttft and e2e run from the write; the 700 ms is `wait` alone.
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, 0);
  t.on_connected(2 * kMs, 0);
  t.on_sent(700 * kMs);
  t.on_first_byte(710 * kMs);
  feed(t, s, 750 * kMs, chunk(ChunkKind::content));
  feed(t, s, 760 * kMs, chunk(ChunkKind::content));
  t.on_end(770 * kMs);
  EXPECT_EQ(*t.wait(), 700 * kMs);
  EXPECT_EQ(*t.ttfb(), 10 * kMs);
  EXPECT_EQ(*t.ttft(), 50 * kMs);
  EXPECT_EQ(*t.e2e(), 70 * kMs);
  GroupStats g;
  t.record_ok(g, s, RequestSlo{});
  EXPECT_TRUE(holds(g, Metric::kWait, 700'000));
  EXPECT_TRUE(holds(g, Metric::kTtfb, 10'000));
  EXPECT_TRUE(holds(g, Metric::kE2e, 70'000));
  // A request that failed before its write has no wait (it never started).
  RequestTiming u;
  u.begin(false, 0, 0);
  u.on_end(5 * kMs);
  EXPECT_FALSE(u.wait().has_value());
  GroupStats f;
  u.record_failed_facts(f, StreamState{});
  EXPECT_EQ(f.count(Metric::kWait), 0);
}

TEST(RequestTiming, ConcurrencyModeKeepsNoSentVariants) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  feed(t, s, 5 * kMs, chunk(ChunkKind::content));
  t.on_end(6 * kMs);
  GroupStats g;
  t.record_ok(g, s, RequestSlo{});
  EXPECT_EQ(g.count(Metric::kQueue), 0);
  EXPECT_EQ(g.count(Metric::kTtftSent), 0);
  EXPECT_EQ(g.count(Metric::kTpot), 0);  // fewer than 2 tokens
  EXPECT_EQ(g.count(Metric::kTtft), 1);
}

TEST(RequestTiming, RetryResetsTheResponseClock) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_connected(2 * kMs, 0);
  t.on_sent(10 * kMs);
  t.on_sent(20 * kMs);  // retried on a fresh connection
  feed(t, s, 50 * kMs, chunk(ChunkKind::content));
  t.on_end(60 * kMs);
  EXPECT_EQ(*t.ttft(), 30 * kMs);
  EXPECT_EQ(*t.connect(), 2 * kMs);
  EXPECT_FALSE(t.tls());
}

TEST(RequestTiming, GoodputNeedsEverySlo) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  feed(t, s, 100 * kMs, chunk(ChunkKind::content));
  feed(t, s, 400 * kMs, chunk(ChunkKind::content));  // a 300 ms gap
  t.on_end(410 * kMs);
  RequestSlo slo;
  slo.ttft_ns = 200 * kMs;
  EXPECT_TRUE(t.meets_slo(s, slo));
  slo.itl_ns = 250 * kMs;
  EXPECT_FALSE(t.meets_slo(s, slo));
  slo.itl_ns.reset();
  slo.tpot_ns = 100 * kMs;  // tpot = 310 ms
  EXPECT_FALSE(t.meets_slo(s, slo));
  GroupStats g;
  t.record_ok(g, s, slo);
  EXPECT_EQ(g.counters.ok, 1);
  EXPECT_EQ(g.counters.goodput, 0);
}

// DESIGN.md: ttft is the first generated text (content or reasoning), ttfo the first output
// after any reasoning. A tool-call delta is generated text and it is the answer: it starts ttft
// when nothing came before it, and ttfo even after reasoning.
TEST(RequestTiming, ToolCallDeltasAreOutput) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  feed(t, s, 5 * kMs, chunk(ChunkKind::role_only));
  feed(t, s, 20 * kMs, chunk(ChunkKind::reasoning));
  feed(t, s, 30 * kMs, chunk(ChunkKind::reasoning));
  feed(t, s, 45 * kMs, chunk(ChunkKind::tool_call));
  feed(t, s, 50 * kMs, chunk(ChunkKind::tool_call));
  t.on_end(60 * kMs);
  EXPECT_EQ(*t.ttft(), 20 * kMs);
  EXPECT_EQ(*t.ttfo(), 45 * kMs);
  EXPECT_EQ(t.itl_values(), 3);

  // A request whose whole answer is a tool call: ttft == ttfo, and a ttfo SLO can be met.
  RequestTiming u;
  StreamState us;
  u.begin(false, 0, -1);
  u.on_sent(0);
  feed(u, us, 5 * kMs, chunk(ChunkKind::role_only));
  feed(u, us, 12 * kMs, chunk(ChunkKind::tool_call));
  feed(u, us, 14 * kMs, chunk(ChunkKind::tool_call));
  feed(u, us, 16 * kMs, chunk(ChunkKind::usage_only));
  u.on_end(17 * kMs);
  EXPECT_EQ(*u.ttft(), 12 * kMs);
  EXPECT_EQ(*u.ttfo(), 12 * kMs);
  RequestSlo slo;
  slo.ttfo_ns = 13 * kMs;
  EXPECT_TRUE(u.meets_slo(us, slo));
  GroupStats g;
  u.record_ok(g, us, slo);
  EXPECT_TRUE(holds(g, Metric::kTtfo, 12'000));
  EXPECT_TRUE(holds(g, Metric::kTtft, 12'000));
  EXPECT_EQ(g.counters.goodput, 1);
}

TEST(RequestTiming, NoTokenMeansNoTtft) {
  RequestTiming t;
  StreamState s;
  t.begin(false, 0, -1);
  t.on_sent(0);
  feed(t, s, 5 * kMs, chunk(ChunkKind::role_only));
  t.on_end(9 * kMs);
  EXPECT_FALSE(t.ttft());
  EXPECT_FALSE(t.ttfo());
  EXPECT_EQ(*t.e2e(), 9 * kMs);
  EXPECT_FALSE(t.got_token());
}

// Timing certainty: a read is the set of token chunks sharing one stamp.
void feed_read(RequestTiming& t, int64_t at, std::initializer_list<int32_t> events, bool kernel) {
  for (int32_t tokens : events) t.on_chunk(at, chunk(ChunkKind::content, tokens), kernel);
}

ClientTiming client_of(const RequestTiming& t, bool ok) {
  ClientTiming c;
  t.record_client(c, ok);
  return c;
}

TEST(RequestTimingCertainty, OneEventPerReadIsCertainAndCountsItsStampSource) {
  RequestTiming t;
  t.begin(false, 0, -1);
  t.on_sent(100 * kMs);
  t.on_first_byte(101 * kMs);
  feed_read(t, 150 * kMs, {1}, true);
  feed_read(t, 160 * kMs, {1}, false);
  feed_read(t, 170 * kMs, {1}, true);
  const ClientTiming c = client_of(t, true);
  EXPECT_EQ(c.token_reads, 3);
  EXPECT_EQ(c.token_reads_kernel, 2);
  EXPECT_EQ(c.timing_values, 3);  // ttft and two gaps
  EXPECT_EQ(c.timing_uncertain, 0);
  EXPECT_EQ(c.uncertain_window_us.total_count(), 0);
  EXPECT_EQ(c.timestamps(), "mixed");
}

TEST(RequestTimingCertainty, TwoEventsInOneReadAreBothUncertainWithTheReadsWindow) {
  RequestTiming t;
  t.begin(false, 0, -1);
  t.on_sent(100 * kMs);
  t.on_first_byte(101 * kMs);
  feed_read(t, 150 * kMs, {1, 1}, true);  // ttft and a zero gap, both uncertain
  feed_read(t, 160 * kMs, {1}, true);
  feed_read(t, 190 * kMs, {1, 1, 1}, true);  // three gaps uncertain, window 30 ms
  EXPECT_EQ(*t.ttft(), 50 * kMs);           // kept as measured, never spread
  EXPECT_EQ(t.uncertain_values(), 5);
  const ClientTiming c = client_of(t, true);
  EXPECT_EQ(c.token_reads, 3);
  EXPECT_EQ(c.token_reads_kernel, 3);
  EXPECT_EQ(c.timing_values, 6);
  EXPECT_EQ(c.timing_uncertain, 5);
  ASSERT_EQ(c.uncertain_window_us.total_count(), 2);
  // The first read's window runs from the first byte's read; the later one's from the previous
  // token read.
  EXPECT_TRUE(c.uncertain_window_us.values_equivalent(c.uncertain_window_us.min(), 30'000));
  EXPECT_TRUE(c.uncertain_window_us.values_equivalent(c.uncertain_window_us.max(), 49'000));
  EXPECT_EQ(c.timestamps(), "kernel");
}

TEST(RequestTimingCertainty, OneEventOfKTokensIsNotUncertain) {
  RequestTiming t;
  t.begin(false, 0, -1);
  t.on_sent(100 * kMs);
  t.on_first_byte(101 * kMs);
  feed_read(t, 150 * kMs, {3}, false);  // ttft and two zero gaps: one event, exact
  feed_read(t, 160 * kMs, {1}, false);
  const ClientTiming c = client_of(t, true);
  EXPECT_EQ(c.token_reads, 2);
  EXPECT_EQ(c.timing_values, 4);
  EXPECT_EQ(c.timing_uncertain, 0);
  EXPECT_EQ(c.timestamps(), "clock");
}

TEST(RequestTimingCertainty, HeadersInTheFirstTokenReadTakeTheWindowFromTheSend) {
  RequestTiming t;
  t.begin(false, 0, -1);
  t.on_sent(100 * kMs);
  t.on_first_byte(140 * kMs);
  feed_read(t, 140 * kMs, {1, 1}, true);
  const ClientTiming c = client_of(t, true);
  EXPECT_EQ(c.timing_uncertain, 2);
  ASSERT_EQ(c.uncertain_window_us.total_count(), 1);
  EXPECT_TRUE(c.uncertain_window_us.values_equivalent(c.uncertain_window_us.max(), 40'000));
}

TEST(RequestTimingCertainty, FailedRequestsCountReadsOnlyAndRetriesStartOver) {
  RequestTiming t;
  t.begin(false, 0, -1);
  t.on_sent(100 * kMs);
  feed_read(t, 150 * kMs, {1, 1}, true);
  ClientTiming failed = client_of(t, false);
  EXPECT_EQ(failed.token_reads, 1);
  EXPECT_EQ(failed.timing_values, 0);  // its ttft and itl were never recorded
  EXPECT_EQ(failed.timing_uncertain, 0);
  EXPECT_EQ(failed.uncertain_window_us.total_count(), 0);

  t.on_sent(200 * kMs);  // a retry: the first attempt's reads do not count
  feed_read(t, 230 * kMs, {1}, false);
  const ClientTiming c = client_of(t, true);
  EXPECT_EQ(c.token_reads, 1);
  EXPECT_EQ(c.token_reads_kernel, 0);
  EXPECT_EQ(c.timing_values, 1);
  EXPECT_EQ(c.timing_uncertain, 0);
}

}  // namespace
}  // namespace llmload
