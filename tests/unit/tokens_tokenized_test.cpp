// tokens_tokenized (requests whose output_tokens the scenario's tokenizer counted) and the
// `tokenizer` tokens source through every reader and writer, as tokens_counted: the request's
// recording, the REPORT wire form (an old peer without it reads as 0), merge, summary.json (an
// old file reads as 0), requests rows (wire, requests.csv, requests.jsonl), Prometheus and the
// tokens_counted finding, which says which count stood in for the server's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analysis/observe/prometheus.h"
#include "common/findings.h"
#include "common/requests_jsonl.h"
#include "common/results_csv.h"
#include "common/results_json.h"
#include "common/wire.h"
#include "tests/unit/results_test_util.h"
#include "worker/request_timing.h"

namespace llmload {
namespace {

using worker::RequestTiming;
using worker::StreamState;
using worker::TokenSource;

StreamState tokenized(int64_t n) {
  StreamState s;
  s.counted_tokens = 3;
  s.tokenized_tokens = n;
  return s;
}

TEST(TokensTokenized, ARequestCountedByTheTokenizerIsInTokensTokenized) {
  RequestTiming t;
  t.begin(false, 0, 0);
  t.on_sent(0);
  t.on_end(10);
  GroupStats g;
  t.record_ok(g, tokenized(17), RequestSlo{});
  t.record_failed_facts(g, tokenized(4));  // a failed request counts too
  EXPECT_EQ(g.counters.tokens_tokenized, 2);
  EXPECT_EQ(g.counters.tokens_counted, 0);
  EXPECT_EQ(g.counters.tokens_from_usage, 0);
  EXPECT_EQ(g.counters.output_tokens, 21);
  // Usage still wins over the tokenizer's count.
  StreamState u = tokenized(17);
  u.usage_completion_tokens = 9;
  EXPECT_EQ(u.output_tokens().source, TokenSource::usage);
  EXPECT_EQ(u.output_tokens().value, 9);
  EXPECT_STREQ(worker::to_string(TokenSource::tokenizer), "tokenizer");
  // A client-cancelled request is in none of the source counters.
  GroupStats c;
  t.record_cancelled(c, tokenized(5));
  EXPECT_EQ(c.counters.tokens_tokenized, 0);
  EXPECT_EQ(c.counters.output_tokens, 5);
}

TEST(TokensTokenized, CrossesTheWireMergesAndOldPeersReadAsZero) {
  GroupStats g(Labels{{"model", "m"}});
  g.counters.requests = g.counters.ok = 5;
  g.counters.tokens_tokenized = 4;
  g.counters.tokens_counted = 1;
  auto back = GroupStats::from_wire(g.to_wire());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->counters.tokens_tokenized, 4);
  EXPECT_TRUE(*back == g);
  nlohmann::json old = g.to_wire();
  old["counters"].erase("tokens_tokenized");
  auto read = GroupStats::from_wire(old);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->counters.tokens_tokenized, 0);
  nlohmann::json bad = g.to_wire();
  bad["counters"]["tokens_tokenized"] = -1;
  auto err = GroupStats::from_wire(bad);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().find("tokens_tokenized"), std::string::npos) << err.error();
  GroupStats m;
  m.merge(g);
  m.merge(g);
  EXPECT_EQ(m.counters.tokens_tokenized, 8);
}

TEST(TokensTokenized, SummaryJsonCarriesItAndOldFilesReadAsZero) {
  RunResult r = testing_util::sample_result();
  r.groups[0].stats.counters.tokens_from_usage -= 5;
  r.groups[0].stats.counters.tokens_tokenized += 5;
  recompute_total(r);
  ASSERT_EQ(r.total.counters.tokens_tokenized, 5);
  const nlohmann::json j = summary_to_json(r);
  EXPECT_EQ(j["totals"]["tokens_tokenized"], 5);
  EXPECT_EQ(j["groups"][0]["totals"]["tokens_tokenized"], 5);
  auto back = summary_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->total.counters.tokens_tokenized, 5);
  EXPECT_EQ(back->groups[0].stats.counters.tokens_tokenized, 5);
  // The checked-in file written before the field.
  auto old = read_summary(std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/results/summary_v1.json");
  ASSERT_TRUE(old.ok()) << old.error();
  EXPECT_EQ(old->total.counters.tokens_tokenized, 0);
  EXPECT_EQ(old->total.counters.tokens_from_usage, 577);
}

TEST(TokensTokenized, TheTokenizerSourceCrossesTheWireAndIsWrittenInTheRows) {
  RequestRow row;
  row.request_id = "r1";
  row.output_tokens = 42;
  row.tokens_source = TokensSource::kTokenizer;
  const nlohmann::json j = wire::request_row_to_json(row);
  EXPECT_EQ(j[12], "tokenizer");
  auto back = wire::request_row_from_json(j, 1024);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->tokens_source, TokensSource::kTokenizer);
  EXPECT_NE(requests_csv_row(*back).find(",42,tokenizer,ok,"), std::string::npos)
      << requests_csv_row(*back);
  const auto line = nlohmann::json::parse(requests_jsonl_line(*back, Labels{{"model", "m"}}));
  EXPECT_EQ(line["tokens_source"], "tokenizer");
  for (TokensSource s : {TokensSource::kUsage, TokensSource::kCounted, TokensSource::kTokenizer})
    EXPECT_EQ(parse_tokens_source(name(s)), s);
  nlohmann::json bad = j;
  bad[12] = "guessed";
  auto err = wire::request_row_from_json(bad, 1024);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().find("tokens_source"), std::string::npos) << err.error();
}

TEST(TokensTokenized, PrometheusCountsRequestsBySource) {
  GroupStats g(Labels{{"model", "m"}});
  g.counters.tokens_from_usage = 1;
  g.counters.tokens_counted = 2;
  g.counters.tokens_tokenized = 3;
  const std::string text = analysis::prometheus_exposition({g}, analysis::PrometheusGauges{});
  EXPECT_NE(text.find("# TYPE llmload_output_tokens_source_requests_total counter"),
            std::string::npos);
  EXPECT_NE(
      text.find("llmload_output_tokens_source_requests_total{model=\"m\",source=\"tokenizer\"} 3"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("llmload_output_tokens_source_requests_total{model=\"m\",source=\"counted\"} 2"),
      std::string::npos);
}

std::optional<Finding> tokens_finding(const RunResult& r) {
  for (const Finding& f : find_findings(r))
    if (f.rule == "tokens_counted") return f;
  return std::nullopt;
}

TEST(TokensTokenized, TheFindingSaysWhichCountStoodInForTheServers) {
  RunResult r = testing_util::sample_result();
  const int64_t usage = r.groups[0].stats.counters.tokens_from_usage;
  r.groups[0].stats.counters.tokens_from_usage = 0;
  r.groups[0].stats.counters.tokens_tokenized = usage;
  recompute_total(r);
  std::optional<Finding> f = tokens_finding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->evidence["tokens_tokenized"], r.total.counters.tokens_tokenized);
  EXPECT_NE(f->message.find("counted by the scenario's tokenizer"), std::string::npos)
      << f->message;
  EXPECT_EQ(f->message.find("stream chunks"), std::string::npos) << f->message;
  // Some fell back to counting chunks (over the cap): the message says so.
  r.groups[0].stats.counters.tokens_tokenized -= 2;
  r.groups[0].stats.counters.tokens_counted += 2;
  recompute_total(r);
  f = tokens_finding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_NE(f->message.find("2 more were counted from stream chunks"), std::string::npos)
      << f->message;
  // Only chunks counted: the old message, and the advice names the tokenizer.
  r.groups[0].stats.counters.tokens_counted += r.groups[0].stats.counters.tokens_tokenized;
  r.groups[0].stats.counters.tokens_tokenized = 0;
  recompute_total(r);
  f = tokens_finding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_NE(f->message.find("counted from stream chunks"), std::string::npos) << f->message;
  EXPECT_NE(f->advice.find("prompts.tokenizer"), std::string::npos) << f->advice;
}

}  // namespace
}  // namespace llmload
