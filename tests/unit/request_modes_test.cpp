// The request modes beside a plain stream, below the engine: the scenario's `cancel:`,
// output.stream and output.batch (parsed, checked, carried to the workers as JSON); the timing
// of a non-streamed and of a client-cancelled request; and client_cancelled and inputs through
// every reader and writer of the counters (the REPORT wire form, summary.json), where an old
// file or peer without them reads as 0.
#include <gtest/gtest.h>

#include "analysis/gates/assertions.h"
#include "common/results_json.h"
#include "common/scenario.h"
#include "common/wire.h"
#include "tests/unit/results_test_util.h"
#include "worker/request_timing.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr int64_t kMs = 1'000'000;

Expected<Scenario> parse(const std::string& extra, const std::string& api = "openai-chat") {
  return parse_scenario(
      "target: {url: http://h:1, model: m, api: " + api + "}\nload: {requests: 10}\n" + extra,
      "s.yaml", "/tmp");
}

TEST(RequestModes, CancelParsesAndRoundTripsThroughTheWorkersJson) {
  auto s = parse("cancel: {share: 0.1, after: {dist: uniform, min: 100ms, max: 2s}}\n");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_DOUBLE_EQ(s->cancel.share, 0.1);
  EXPECT_EQ(s->cancel.after.kind, DistKind::kUniform);
  EXPECT_DOUBLE_EQ(s->cancel.after.min, 100.0 * kMs);
  EXPECT_DOUBLE_EQ(s->cancel.after.max, 2000.0 * kMs);
  auto back = scenario_from_json(scenario_to_json(*s, JsonMode::kWire));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_DOUBLE_EQ(back->cancel.share, 0.1);
  EXPECT_DOUBLE_EQ(back->cancel.after.max, 2000.0 * kMs);
  // Absent: nothing is cancelled.
  auto none = parse("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->cancel.enabled());
  EXPECT_FALSE(scenario_to_json(*none, JsonMode::kWire).contains("cancel"));
}

TEST(RequestModes, CancelErrorsNameTheField) {
  for (const auto& [text, field] : std::vector<std::pair<std::string, std::string>>{
           {"cancel: {share: 1.5, after: 1s}\n", "cancel.share"},
           {"cancel: {share: 0.2}\n", "cancel.after"},
           {"cancel: {after: 1s}\n", "cancel.share"},
           {"cancel: {share: 0.2, after: soon}\n", "cancel.after"},
           {"cancel: {share: 0.2, after: 1s, when: 2}\n", "cancel.when"}}) {
    auto s = parse(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.error().find(field), std::string::npos) << text << " -> " << s.error();
    EXPECT_NE(s.error().find("s.yaml:"), std::string::npos) << s.error();
  }
}

TEST(RequestModes, OutputStreamAndBatchParseCheckAndRoundTrip) {
  auto s = parse("output: {stream: false}\n");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_FALSE(s->output.stream);
  auto back = scenario_from_json(scenario_to_json(*s, JsonMode::kWire));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_FALSE(back->output.stream);
  EXPECT_TRUE(parse("")->output.stream);

  auto e = parse("output: {batch: 16}\n", "openai-embeddings");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->output.batch, 16);
  EXPECT_TRUE(check_scenario(*e).empty());
  back = scenario_from_json(scenario_to_json(*e, JsonMode::kWire));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->output.batch, 16);

  for (const char* bad :
       {"output: {batch: 0}\n", "output: {batch: 2.5}\n", "output: {stream: maybe}\n"}) {
    auto b = parse(bad, "openai-embeddings");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.error().find("output."), std::string::npos) << b.error();
  }
  // A batch for an API that takes one prompt per request is an error naming the API.
  auto chat = parse("output: {batch: 4}\n");
  ASSERT_FALSE(chat.ok());
  EXPECT_NE(chat.error().find("output.batch"), std::string::npos) << chat.error();
  EXPECT_NE(chat.error().find("openai-chat"), std::string::npos) << chat.error();
}

ChunkInfo content() {
  ChunkInfo c;
  c.kind = ChunkKind::content;
  c.tokens = 1;
  return c;
}

TEST(RequestModes, ANonStreamedResponseHasTtfbAndE2eButNoTokenTimes) {
  RequestTiming t;
  t.begin(false, 0, 0, /*streamed=*/false);
  t.on_sent(1 * kMs);
  t.on_first_byte(40 * kMs);
  // The whole body, classified at its end: one content chunk with the usage.
  ChunkInfo body = content();
  body.final = true;
  body.has_usage = true;
  body.completion_tokens = 50;
  body.prompt_tokens = 7;
  StreamState s;
  s.usage_completion_tokens = 50;
  s.usage_prompt_tokens = 7;
  s.final_seen = true;
  t.on_chunk(41 * kMs, body);
  t.on_end(41 * kMs);
  EXPECT_FALSE(t.got_token());
  EXPECT_FALSE(t.ttft().has_value());
  EXPECT_FALSE(t.ttfo().has_value());
  GroupStats g;
  t.record_ok(g, s, RequestSlo{});
  EXPECT_EQ(g.count(Metric::kTtft), 0);
  EXPECT_EQ(g.count(Metric::kItl), 0);
  EXPECT_EQ(g.count(Metric::kTpot), 0);
  EXPECT_EQ(g.count(Metric::kDecodeTps), 0);
  EXPECT_EQ(g.count(Metric::kTtfb), 1);
  EXPECT_EQ(g.count(Metric::kE2e), 1);
  EXPECT_EQ(g.counters.output_tokens, 50);
  EXPECT_EQ(g.counters.tokens_from_usage, 1);
  // The same chunk on a streamed request starts ttft: the flag is what stops it.
  RequestTiming streamed;
  streamed.begin(false, 0, 0);
  streamed.on_sent(1 * kMs);
  streamed.on_chunk(41 * kMs, body);
  EXPECT_TRUE(streamed.got_token());
}

TEST(RequestModes, AClientCancelledRequestKeepsItsTtftAndCountsNeitherOkNorFailed) {
  RequestTiming t;
  t.begin(false, 0, 0);
  t.on_sent(0);
  t.on_first_byte(10 * kMs);
  StreamState s;
  for (int i = 0; i < 3; ++i) {
    t.on_chunk((20 + i) * kMs, content());
    ++s.counted_tokens;
  }
  t.on_end(100 * kMs);  // the client's close
  GroupStats g;
  g.record_client_cancelled();
  t.record_cancelled(g, s);
  EXPECT_EQ(g.counters.requests, 1);
  EXPECT_EQ(g.counters.client_cancelled, 1);
  EXPECT_EQ(g.counters.ok, 0);
  EXPECT_EQ(g.counters.failed, 0);
  EXPECT_EQ(g.count(Metric::kTtft), 1);
  EXPECT_EQ(g.count(Metric::kTtfb), 1);
  EXPECT_EQ(g.count(Metric::kE2e), 0);  // no full response: no e2e
  EXPECT_EQ(g.count(Metric::kItl), 0);
  EXPECT_EQ(g.counters.output_tokens, 3);
  // A cut stream has no usage: in neither source count (so no "tokens counted" finding).
  EXPECT_EQ(g.counters.tokens_counted, 0);
  EXPECT_EQ(g.counters.tokens_from_usage, 0);
}

TEST(RequestModes, ClientCancelledAndInputsCrossTheWireAndOldPeersReadAsZero) {
  GroupStats g(Labels{{"model", "m"}});
  g.counters.requests = 5;
  g.counters.ok = 2;
  g.counters.failed = 1;
  g.counters.errors[size_t(ErrorKind::kReset)] = 1;
  g.counters.client_cancelled = 2;
  g.counters.inputs = 8;
  auto back = GroupStats::from_wire(g.to_wire());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->counters.client_cancelled, 2);
  EXPECT_EQ(back->counters.inputs, 8);
  EXPECT_TRUE(*back == g);
  // A peer that never sends it: 0, and the identity then needs requests == ok + failed.
  nlohmann::json old = g.to_wire();
  old["counters"].erase("client_cancelled");
  old["counters"].erase("inputs");
  auto bad = GroupStats::from_wire(old);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("client_cancelled"), std::string::npos) << bad.error();
  old["counters"]["requests"] = 3;
  auto ok = GroupStats::from_wire(old);
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->counters.client_cancelled, 0);
  EXPECT_EQ(ok->counters.inputs, 0);
  // Merging adds them.
  GroupStats m;
  m.merge(g);
  m.merge(g);
  EXPECT_EQ(m.counters.client_cancelled, 4);
  EXPECT_EQ(m.counters.inputs, 16);
}

TEST(RequestModes, SummaryJsonCarriesClientCancelledAndReadsOldFilesAsZero) {
  RunResult r = testing_util::sample_result_with_cancels();
  ASSERT_GT(r.total.counters.client_cancelled, 0);
  r.total.counters.inputs = 40;
  const nlohmann::json j = summary_to_json(r);
  const nlohmann::json& totals = j["totals"];
  EXPECT_EQ(totals["requests"].get<int64_t>(), totals["ok"].get<int64_t>() +
                                                   totals["failed"].get<int64_t>() +
                                                   totals["client_cancelled"].get<int64_t>());
  EXPECT_EQ(totals["inputs"].get<int64_t>(), 40);
  EXPECT_DOUBLE_EQ(totals["inputs_per_s"].get<double>(), 40 / r.run.duration_s);
  EXPECT_DOUBLE_EQ(totals["input_tokens_per_s"].get<double>(),
                   double(r.total.counters.input_tokens) / r.run.duration_s);
  auto back = summary_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->total.counters.client_cancelled, r.total.counters.client_cancelled);

  // A file written before the field: without it, and with requests == ok + failed.
  RunResult old_result = testing_util::sample_result_with_cancels();
  auto strip = [](nlohmann::json& t) {
    t["requests"] = t["requests"].get<int64_t>() - t["client_cancelled"].get<int64_t>();
    t.erase("client_cancelled");
    t.erase("inputs");
  };
  nlohmann::json old = summary_to_json(old_result);
  strip(old["totals"]);
  for (auto& g : old["groups"]) strip(g["totals"]);
  for (auto& w : old["run"]["workers"]) strip(w["totals"]);
  auto read = summary_from_json(old);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->total.counters.client_cancelled, 0);
  // The identity is checked: a count that does not add up names the field.
  nlohmann::json broken = summary_to_json(r);
  broken["totals"]["client_cancelled"] = 0;
  auto err = summary_from_json(broken);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().find("client_cancelled"), std::string::npos) << err.error();
}

// requests.csv rows cross the wire from the workers: the outcome keeps client_cancelled.
TEST(RequestModes, AClientCancelledRowCrossesTheWire) {
  RequestRow row;
  row.request_id = "r1";
  row.client_cancelled = true;
  row.ttft_us = 1500;
  const nlohmann::json j = wire::request_row_to_json(row);
  EXPECT_EQ(j[13], "client_cancelled");
  auto back = wire::request_row_from_json(j, 1024);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back->client_cancelled);
  EXPECT_FALSE(back->error.has_value());
  EXPECT_EQ(request_outcome(*back), "client_cancelled");
  EXPECT_NE(requests_csv_row(*back).find(",client_cancelled,"), std::string::npos);
  row.client_cancelled = false;
  back = wire::request_row_from_json(wire::request_row_to_json(row), 1024);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(request_outcome(*back), "ok");
}

TEST(RequestModes, AssertionsReadClientCancelledAndTheEmbeddingsRates) {
  RunResult r = testing_util::sample_result_with_cancels();
  r.total.counters.inputs = 250;
  auto value = [&](const char* text) {
    auto a = parse_slo_expr(text);
    EXPECT_TRUE(a.ok()) << text;
    return analysis::assertion_variable(*a, r);
  };
  EXPECT_EQ(value("client_cancelled < 100"), double(r.total.counters.client_cancelled));
  EXPECT_EQ(value("inputs > 0"), 250.0);
  EXPECT_DOUBLE_EQ(*value("inputs_per_s > 0"), 250.0 / r.run.duration_s);
  EXPECT_DOUBLE_EQ(*value("input_tokens_per_s > 0"),
                   double(r.total.counters.input_tokens) / r.run.duration_s);
}

}  // namespace
}  // namespace llmload
