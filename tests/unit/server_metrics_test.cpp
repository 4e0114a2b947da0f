// server.* metrics: from each API's stream (through the real adapters) to the recorded values,
// the wait_ms floor, tokens_mismatch, the prefix-cache counters, and exact merging.
#include "worker/server_metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "analysis/observe/prometheus.h"
#include "analysis/report/html_report.h"
#include "analysis/report/summary_table.h"
#include "common/results_csv.h"
#include "common/slo_expr.h"
#include "common/wire.h"
#include "tests/unit/adapter_test_util.h"

namespace llmload {
namespace {

using worker::record_server_metrics;
using worker::server_values;
using worker::ServerValues;

constexpr int64_t kMs = 1'000'000;  // ns

const HdrHistogram& server_histogram(const GroupStats& g, const std::string& name) {
  static const HdrHistogram kEmpty = make_histogram(*units_of_name("server.load_ms"));
  auto it = g.server_histograms().find(name);
  return it == g.server_histograms().end() ? kEmpty : it->second;
}
// Exactly one value recorded in `name`, and it is `expected` (to the histogram's precision:
// 3 significant digits).
::testing::AssertionResult recorded(const GroupStats& g, const std::string& name,
                                    int64_t expected) {
  const HdrHistogram& h = server_histogram(g, name);
  if (h.total_count() != 1)
    return ::testing::AssertionFailure() << name << ": " << h.total_count() << " values";
  if (!h.values_equivalent(h.max(), expected))
    return ::testing::AssertionFailure() << name << ": " << h.max() << ", expected " << expected;
  return ::testing::AssertionSuccess();
}

// Ollama's final line: every duration and count, the derived rates and wait_ms.
TEST(ServerMetrics, OllamaFinalLineToRecordedValues) {
  auto a = testutil::adapter("ollama-chat");
  const std::string body =
      "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n"
      "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\" there\"},"
      "\"done\":false}\n"
      "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
      "\"total_duration\":290000000,\"load_duration\":20000000,\"prompt_eval_count\":40,"
      "\"prompt_eval_duration\":200000000,\"eval_count\":2,\"eval_duration\":50000000}\n";
  const auto r = testutil::replay(*a, body);
  ServerValues v = server_values(r.state.server, 250 * kMs, r.state.input_tokens());
  GroupStats g;
  record_server_metrics(g, v, r.state.counted_tokens);
  EXPECT_TRUE(recorded(g, "server.load_ms", 20'000));  // µs
  EXPECT_TRUE(recorded(g, "server.prompt_tokens", 40));
  EXPECT_TRUE(recorded(g, "server.prompt_eval_ms", 200'000));
  EXPECT_TRUE(recorded(g, "server.output_tokens", 2));
  EXPECT_TRUE(recorded(g, "server.eval_ms", 50'000));
  EXPECT_TRUE(recorded(g, "server.total_ms", 290'000));
  EXPECT_TRUE(recorded(g, "server.prompt_tokens_per_s", 200));  // 40 / 0.2 s
  EXPECT_TRUE(recorded(g, "server.eval_tokens_per_s", 40));     // 2 / 0.05 s
  EXPECT_TRUE(recorded(g, "server.wait_ms", 30'000));           // 250 − (20 + 200) ms
  EXPECT_EQ(g.server_histograms().count("server.cached_tokens"), 0u) << "Ollama sends none";
  EXPECT_EQ(g.counters.tokens_mismatch, 0);
  EXPECT_FALSE(g.counters.prefix_cache_hit_rate());
}

// llama.cpp's timings on the final chunk: prompt_n is the evaluated (uncached) share, cache_n
// the cached one; the prefix-cache denominator is their sum.
TEST(ServerMetrics, LlamaCppTimingsToRecordedValues) {
  auto a = testutil::adapter("openai-chat");
  const std::string body =
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],"
      "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":3,\"total_tokens\":103},"
      "\"timings\":{\"cache_n\":75,\"prompt_n\":25,\"prompt_ms\":12.5,\"predicted_n\":3,"
      "\"predicted_ms\":30.25,\"predicted_per_second\":99.17}}\n\n"
      "data: [DONE]\n\n";
  const auto r = testutil::replay(*a, body);
  ServerValues v = server_values(r.state.server, 10 * kMs, r.state.input_tokens());
  ASSERT_TRUE(v.cache_prompt_tokens);
  EXPECT_EQ(*v.cache_prompt_tokens, 100);  // prompt_n + cache_n
  GroupStats g;
  record_server_metrics(g, v, r.state.counted_tokens);
  EXPECT_TRUE(recorded(g, "server.prompt_tokens", 25));
  EXPECT_TRUE(recorded(g, "server.prompt_eval_ms", 12'500));
  EXPECT_TRUE(recorded(g, "server.output_tokens", 3));
  EXPECT_TRUE(recorded(g, "server.eval_ms", 30'250));
  EXPECT_TRUE(recorded(g, "server.cached_tokens", 75));
  EXPECT_TRUE(recorded(g, "server.prompt_tokens_per_s", 2000));  // 25 / 12.5 ms
  EXPECT_TRUE(recorded(g, "server.eval_tokens_per_s", 99));      // 3 / 30.25 ms = 99.17
  EXPECT_EQ(g.server_histograms().count("server.load_ms"), 0u) << "llama.cpp sends none";
  EXPECT_EQ(g.server_histograms().count("server.total_ms"), 0u);
  // wait_ms = 10 − 12.5 ms, floored at 0.
  EXPECT_TRUE(recorded(g, "server.wait_ms", 0));
  // Two content chunks counted, the server says 3.
  EXPECT_EQ(g.counters.tokens_mismatch, 1);
  ASSERT_EQ(g.mismatch_samples().size(), 1u);
  EXPECT_EQ(g.mismatch_samples()[0], "server 3, ours 2");
  EXPECT_EQ(g.counters.cached_tokens, 75);
  EXPECT_EQ(g.counters.cache_prompt_tokens, 100);
  EXPECT_DOUBLE_EQ(*g.counters.prefix_cache_hit_rate(), 0.75);
}

// Real llama-server streams (shared captures, b4748): a stream cut by max_tokens agrees with our
// count; one ended by the model counts its end-of-sequence token, which it never sends as text,
// so it is a tokens_mismatch of one (docs/metrics.md says so).
TEST(ServerMetrics, LlamaServerCapturesTokensMismatch) {
  auto a = testutil::adapter("openai-chat");
  auto record = [&](const std::string& capture) {
    const std::string body = testutil::capture_body(capture);
    const auto r = testutil::replay_with(*a, [&](auto feed) { feed(body); });
    GroupStats g;
    ++g.counters.requests;
    ++g.counters.ok;
    record_server_metrics(g, server_values(r.state.server, 50 * kMs, r.state.input_tokens()),
                          r.state.counted_tokens);
    return g;
  };
  const GroupStats cut = record("chat-stream-usage");
  EXPECT_EQ(cut.counters.tokens_mismatch, 0);
  EXPECT_TRUE(recorded(cut, "server.output_tokens", 16));
  const GroupStats eos = record("chat-stream-eos");
  EXPECT_EQ(eos.counters.tokens_mismatch, 1);
  ASSERT_EQ(eos.mismatch_samples().size(), 1u);
  EXPECT_EQ(eos.mismatch_samples()[0], "server 137, ours 136");
  EXPECT_EQ(eos.server_histograms().count("server.cached_tokens"), 0u) << "b4748 sends no cache_n";
}

// vLLM: usage.prompt_tokens_details.cached_tokens, and usage.prompt_tokens as the denominator.
TEST(ServerMetrics, VllmCachedTokensFromUsage) {
  auto a = testutil::adapter("openai-chat");
  const std::string body =
      "data: {\"id\":\"v\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
      "data: {\"id\":\"v\",\"choices\":[],\"usage\":{\"prompt_tokens\":64,\"completion_tokens\":1,"
      "\"total_tokens\":65,\"prompt_tokens_details\":{\"cached_tokens\":48}}}\n\n"
      "data: [DONE]\n\n";
  const auto r = testutil::replay(*a, body);
  ServerValues v = server_values(r.state.server, 5 * kMs, r.state.input_tokens());
  GroupStats g;
  record_server_metrics(g, v, r.state.counted_tokens);
  EXPECT_TRUE(recorded(g, "server.cached_tokens", 48));
  EXPECT_EQ(g.server_histograms().size(), 1u) << "nothing else was reported";
  EXPECT_EQ(g.counters.cached_tokens, 48);
  EXPECT_EQ(g.counters.cache_prompt_tokens, 64);
  EXPECT_DOUBLE_EQ(*g.counters.prefix_cache_hit_rate(), 0.75);
  EXPECT_EQ(g.counters.tokens_mismatch, 0) << "no server output count to compare";
}

TEST(ServerMetrics, NothingReportedRecordsNothing) {
  auto a = testutil::adapter("openai-chat");
  const auto r = testutil::replay(
      *a, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n");
  EXPECT_TRUE(r.state.server.empty());
  ServerValues v = server_values(r.state.server, 5 * kMs, -1);
  EXPECT_TRUE(v.figures.empty());
  GroupStats g;
  record_server_metrics(g, v, 1);
  EXPECT_TRUE(g.empty());
}

// wait_ms without a client ttft is not invented; with one it floors at 0; load_ms counts.
TEST(ServerMetrics, WaitMsFloorAndLoad) {
  worker::ServerTimings t;
  t.prompt_eval_duration_ns = 100 * kMs;
  t.load_duration_ns = 50 * kMs;
  EXPECT_FALSE(server_values(t, std::nullopt, -1).figures.wait_us);
  EXPECT_EQ(*server_values(t, 120 * kMs, -1).figures.wait_us, 0);
  EXPECT_EQ(*server_values(t, 151 * kMs, -1).figures.wait_us, 1000);
  t.prompt_eval_duration_ns.reset();
  EXPECT_FALSE(server_values(t, 151 * kMs, -1).figures.wait_us)
      << "no server time to subtract: no wait_ms";
}

// Two groups' server metrics and counters merge exactly, also through the wire.
TEST(ServerMetrics, MergeOfTwoGroupsIsExact) {
  worker::ServerTimings t;
  t.eval_count = 10;
  t.eval_duration_ns = 100 * kMs;
  t.prompt_n = 5;
  t.cache_n = 5;
  GroupStats a, b, both;
  for (int i = 0; i < 30; ++i) {
    t.eval_duration_ns = (100 + i) * kMs;
    ServerValues v = server_values(t, 20 * kMs, -1);
    for (GroupStats* g : {i % 3 == 0 ? &a : &b, &both}) {
      ++g->counters.requests;  // recorded for ok requests only
      ++g->counters.ok;
      record_server_metrics(*g, v, i % 2 == 0 ? 10 : 9);
    }
  }
  GroupStats merged = a;
  merged.merge(b);
  EXPECT_EQ(merged.counters.tokens_mismatch, 15);
  EXPECT_EQ(merged.counters.cached_tokens, 150);
  EXPECT_EQ(merged.counters.cache_prompt_tokens, 300);
  EXPECT_TRUE(merged == both);
  auto back = GroupStats::from_wire(merged.to_wire());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(*back == merged);
  EXPECT_EQ(back->mismatch_samples(), merged.mismatch_samples());
}

// requests.csv carries the figures; a row without any leaves the columns empty.
TEST(ServerMetrics, RequestsCsvColumns) {
  RequestRow row;
  row.start_us = 0;
  const std::string empty = requests_csv_row(row);
  // Ten empty server columns, then input_tokens and error_message (empty too).
  EXPECT_NE(empty.find(",ok,,,,,,,,,,,,\n"), std::string::npos) << empty;
  row.server.load_us = 1500;
  row.server.prompt_tokens = 40;
  row.server.prompt_eval_us = 200'000;
  row.server.output_tokens = 3;
  row.server.eval_us = 30'000;
  row.server.wait_us = 0;
  const std::string full = requests_csv_row(row);
  EXPECT_NE(full.find(",ok,1.500,40,200.000,3,30.000,,,200.000,100.000,0.000,,\n"),
            std::string::npos)
      << full;
}

// One group with two llama.cpp-style requests (one token short in our count) as a run.
RunResult llamacpp_run() {
  worker::ServerTimings t;
  t.prompt_n = 30;
  t.cache_n = 10;
  t.prompt_ms = 20.0;
  t.predicted_n = 8;
  t.predicted_ms = 14.0;
  RunResult r;
  GroupResult g;
  g.stats.labels = {{"model", "m"}, {"target", "t"}};
  for (int ours : {8, 7}) {
    ++g.stats.counters.requests;
    ++g.stats.counters.ok;
    record_server_metrics(g.stats, server_values(t, 30 * kMs, -1), ours);
  }
  r.groups.push_back(g);
  recompute_total(r);
  r.run.duration_s = 1;
  return r;
}

// Prometheus: each server.* metric a histogram in its base unit, and the counters.
TEST(ServerMetrics, PrometheusHistogramsAndCounters) {
  const RunResult r = llamacpp_run();
  const std::string text = analysis::prometheus_exposition({r.groups[0].stats}, {});
  const std::string labels = "model=\"m\",target=\"t\"";
  EXPECT_NE(text.find("# TYPE llmload_server_eval_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("llmload_server_eval_seconds_bucket{" + labels + ",le=\"0.01\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("llmload_server_eval_seconds_bucket{" + labels + ",le=\"0.025\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("llmload_server_eval_tokens_per_second_count{" + labels + "} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("llmload_server_cached_tokens_bucket{" + labels + ",le=\"10\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("llmload_server_tokens_mismatch_total{" + labels + "} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("llmload_server_cached_tokens_total{" + labels + "} 20\n"),
            std::string::npos);
  EXPECT_NE(text.find("llmload_server_cache_prompt_tokens_total{" + labels + "} 80\n"),
            std::string::npos);
}

// The report's table and the terminal block show the same figures.
TEST(ServerMetrics, ReportAndTerminal) {
  const RunResult r = llamacpp_run();
  const std::string html = analysis::html_report({analysis::ReportRun{"run-a", r, {}}});
  EXPECT_NE(html.find("<table id=\"server\">"), std::string::npos);
  EXPECT_NE(html.find("server.eval_tokens_per_s"), std::string::npos);
  EXPECT_NE(html.find("prefix-cache hit rate 25.0 % (20 of 80 prompt tokens)"), std::string::npos);
  EXPECT_NE(html.find("1 requests where the server's output-token count"), std::string::npos);
  const std::string term = analysis::summary_server_lines(r);
  EXPECT_NE(term.find("eval_tokens_per_s      tokens/s      571"), std::string::npos) << term;
  EXPECT_NE(term.find("prefix cache: 25.0% of prompt tokens cached (20 of 80)"), std::string::npos)
      << term;
  EXPECT_NE(term.find("tokens mismatch: 1 requests"), std::string::npos) << term;
  EXPECT_NE(term.find("(server 8, ours 7)"), std::string::npos) << term;
  EXPECT_EQ(analysis::summary_server_lines(RunResult{}), "") << "nothing reported, no lines";
}

// --assert on a server rate: parses, with a number in exponent form too.
TEST(ServerMetrics, AssertionOnServerRateParses) {
  auto a = parse_slo_expr("server.eval_tokens_per_s.p50 > 1e9");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->metric, "server.eval_tokens_per_s");
  EXPECT_EQ(a->value, 1e9);
  auto b = parse_slo_expr("server.eval_ms.p99 < 2.5E-1s");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b->value, 250.0);
  EXPECT_FALSE(parse_slo_expr("server.eval_ms.p99 < 1e").ok()) << "'e' alone is no exponent";
}

// A REPORT carries a row's server figures to the coordinator; a row without any stays 17 fields.
TEST(ServerMetrics, RequestRowServerFiguresCrossTheWire) {
  wire::Report r;
  r.run_id = "r";
  r.seq = 1;
  r.snapshot = IntervalSnapshot{};
  RequestRow with, without;
  with.server.eval_us = 14'000;
  with.server.cached_tokens = 5;
  with.server.wait_us = 0;
  r.requests = {with, without};
  wire::Frames f = wire::encode(r);
  auto d = wire::decode(f.type, f.body);
  ASSERT_TRUE(d.ok()) << d.error();
  const auto& back = std::get<wire::Report>(d.value()).requests;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].server, with.server);
  EXPECT_TRUE(back[1].server.empty());
}

}  // namespace
}  // namespace llmload
