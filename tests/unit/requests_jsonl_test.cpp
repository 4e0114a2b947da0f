// The per-call log's line (requests.jsonl) and the request row on the wire: every key always
// present, null where unknown, labels as an object, the server's figures nested; rows of 27
// fields (input tokens and the error message) cross the wire, and the older 17 and 25 still read.
#include "common/requests_jsonl.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/wire.h"

namespace llmload {
namespace {

RequestRow sample_row() {
  RequestRow r;
  r.request_id = "req-1";
  r.worker = "w1";
  r.group = "model=m,target=t";
  r.prompt = 2;
  r.sent_unix_ns = 1'796'000'000'123'456'789;
  r.start_us = 1'500'250;
  r.connect_us = 120;
  r.ttfb_us = 30'000;
  r.ttft_us = 45'001;
  r.ttfo_us = 45'001;
  r.e2e_us = 900'000;
  r.input_tokens = 17;
  r.output_tokens = 64;
  r.tokens_source = TokensSource::kUsage;
  r.server.prompt_tokens = 17;
  r.server.prompt_eval_us = 12'000;
  r.server.output_tokens = 64;
  r.server.eval_us = 640'000;
  return r;
}

TEST(RequestsJsonl, OneObjectPerLineWithEveryKeyAndNullsWhereUnknown) {
  const std::string line = requests_jsonl_line(sample_row(), {{"model", "m"}, {"target", "t"}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  const auto j = nlohmann::json::parse(line);
  for (const char* k :
       {"request_id", "worker", "group", "labels", "prompt", "sent_unix_ns", "start_ms", "queue_ms",
        "wait_ms", "connect_ms", "tls_ms", "ttfb_ms", "ttft_ms", "ttfo_ms", "e2e_ms",
        "input_tokens", "output_tokens", "tokens_source", "outcome", "error_message", "server"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["labels"], (nlohmann::json{{"model", "m"}, {"target", "t"}}));
  EXPECT_EQ(j["sent_unix_ns"].get<int64_t>(), 1'796'000'000'123'456'789) << "every ns kept";
  EXPECT_DOUBLE_EQ(j["ttft_ms"].get<double>(), 45.001);
  EXPECT_DOUBLE_EQ(j["start_ms"].get<double>(), 1500.25);
  EXPECT_TRUE(j["queue_ms"].is_null());
  EXPECT_TRUE(j["tls_ms"].is_null());
  EXPECT_EQ(j["input_tokens"], 17);
  EXPECT_EQ(j["tokens_source"], "usage");
  EXPECT_EQ(j["outcome"], "ok");
  EXPECT_TRUE(j["error_message"].is_null());
  EXPECT_DOUBLE_EQ(j["server"]["eval_ms"].get<double>(), 640.0);
  EXPECT_DOUBLE_EQ(j["server"]["eval_tokens_per_s"].get<double>(), 100.0);
  EXPECT_TRUE(j["server"]["load_ms"].is_null());
}

TEST(RequestsJsonl, AFailedRequestCarriesItsKindAndMessage) {
  RequestRow r;
  r.request_id = "x";
  r.error = ErrorKind::kHttp5xx;
  r.error_message = "http://h:1: HTTP 500: {\"error\":\"boom\"}";
  const auto j = nlohmann::json::parse(requests_jsonl_line(r, {}));
  EXPECT_EQ(j["outcome"], "http_5xx");
  EXPECT_EQ(j["error_message"], "http://h:1: HTTP 500: {\"error\":\"boom\"}");
  EXPECT_TRUE(j["labels"].empty());
  EXPECT_TRUE(j["prompt"].is_null());
  EXPECT_TRUE(j["input_tokens"].is_null());
  // Invalid UTF-8 from a server never makes the writer throw.
  r.error_message = "bad \xff byte";
  EXPECT_NO_THROW(nlohmann::json::parse(requests_jsonl_line(r, {})));
}

TEST(RequestsJsonl, RowsOfTwentySevenFieldsCrossTheWireAndOlderRowsStillRead) {
  RequestRow r = sample_row();
  r.error = ErrorKind::kReset;
  r.error_message = "reset by peer";
  const nlohmann::json w = wire::request_row_to_json(r);
  ASSERT_EQ(w.size(), 27u);
  auto back = wire::request_row_from_json(w, 4096);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->input_tokens, 17);
  EXPECT_EQ(back->error_message, "reset by peer");
  EXPECT_EQ(back->server.eval_us, 640'000);
  // A 25-field row (before input tokens and messages) and a 17-field one read without them.
  nlohmann::json old = w;
  old.erase(old.end() - 2, old.end());
  back = wire::request_row_from_json(old, 4096);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_FALSE(back->input_tokens.has_value());
  EXPECT_EQ(back->server.eval_us, 640'000);
  old.erase(old.begin() + 17, old.end());
  ASSERT_TRUE(wire::request_row_from_json(old, 4096).ok());
  // Anything else is refused, naming the field.
  old.push_back(1);
  auto bad = wire::request_row_from_json(old, 4096);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("17, 25 or 27"), std::string::npos) << bad.error();
  nlohmann::json long_message = w;
  long_message[26] = std::string(10'000, 'x');
  bad = wire::request_row_from_json(long_message, 4096);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("error_message"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace llmload
