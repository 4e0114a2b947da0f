#include "common/wire.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace llmload::wire {
namespace {

using json = nlohmann::json;

Message roundtrip(const Message& m) {
  Frames f = encode(m);
  auto d = decode(f.type, f.body);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error());
  return d.ok() ? d.value() : Message{Bye{"decode failed"}};
}

std::string msgpack(const json& j) {
  auto v = json::to_msgpack(j);
  return std::string(v.begin(), v.end());
}

TEST(Wire, TypeNamesRoundTrip) {
  for (int i = 0; i < 10; ++i) {
    auto t = static_cast<MsgType>(i);
    EXPECT_EQ(parse_type(type_name(t)), t);
  }
  EXPECT_FALSE(parse_type("HELLO ").has_value());
  EXPECT_FALSE(parse_type("").has_value());
}

TEST(Wire, HelloWelcomePingPongRoundTrip) {
  auto h = std::get<Hello>(roundtrip(Hello{kProtocolVersion, "w1", "hostA", 8, "0.1.0"}));
  EXPECT_EQ(h.worker_id, "w1");
  EXPECT_EQ(h.host, "hostA");
  EXPECT_EQ(h.threads, 8);
  auto p = std::get<Pong>(roundtrip(Pong{7, -5, 123456789}));
  EXPECT_EQ(p.seq, 7);
  EXPECT_EQ(p.ping_sent_ns, -5);
  EXPECT_EQ(p.recv_ns, 123456789);
  auto s = std::get<Stop>(roundtrip(Stop{"r1", "interrupted", 5'000'000'000}));
  EXPECT_EQ(s.grace_ns, 5'000'000'000);
  EXPECT_EQ(std::get<Reject>(roundtrip(Reject{1, "full"})).reason, "full");
  EXPECT_EQ(std::get<Done>(roundtrip(Done{"r", 4, "x"})).reports, 4);
}

TEST(Wire, HelloOfAnotherVersionStillDecodes) {
  // A future worker may send other fields: the coordinator must read the version to refuse it.
  json body = {{"protocol", 99}, {"worker_id", "w9"}, {"something_new", {1, 2, 3}}};
  auto d = decode("HELLO", msgpack(body));
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(std::get<Hello>(d.value()).protocol, 99);
  EXPECT_EQ(std::get<Hello>(d.value()).worker_id, "w9");
}

TEST(Wire, HelloOfThisVersionIsChecked) {
  json body = {{"protocol", kProtocolVersion},
               {"worker_id", "w"},
               {"host", "h"},
               {"threads", 0},
               {"version", "x"}};
  auto d = decode("HELLO", msgpack(body));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("HELLO: threads"), std::string::npos) << d.error();
  body["threads"] = 2;
  body["worker_id"] = "";
  d = decode("HELLO", msgpack(body));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("worker_id"), std::string::npos);
}

TEST(Wire, RunRoundTripsPromptsAndShare) {
  wire::Run r;
  r.run_id = "run-1";
  r.scenario = {{"name", "x"}};
  ResolvedPrompt p;
  p.index = 3;
  p.source_index = 9;
  p.messages = {{"user", "hello"}, {"assistant", "hi"}};
  p.system = "be brief";
  p.max_tokens = 64;
  p.input_tokens_estimate = 5;
  ResolvedPrompt q;
  q.index = 4;
  q.text = "plain";
  q.turns = {{"u1", "r1"}};
  r.prompts = {p, q};
  Load load;
  load.mode = LoadMode::kRate;
  load.rate = 10;
  load.requests = 100;
  r.interval_ns = 500'000'000;
  r.requests_csv = true;
  auto back = std::get<wire::Run>(roundtrip(r));
  EXPECT_EQ(back.run_id, "run-1");
  EXPECT_EQ(back.scenario, r.scenario);
  ASSERT_EQ(back.prompts.size(), 2u);
  EXPECT_EQ(back.prompts[0].messages.size(), 2u);
  EXPECT_EQ(back.prompts[0].messages[1].content, "hi");
  EXPECT_EQ(back.prompts[0].system, "be brief");
  EXPECT_EQ(back.prompts[0].max_tokens, 64);
  EXPECT_EQ(back.prompts[1].text, "plain");
  EXPECT_FALSE(back.prompts[1].max_tokens.has_value());
  EXPECT_EQ(back.prompts[1].turns[0].recorded_reply, "r1");
  EXPECT_TRUE(back.requests_csv);
  // GO carries the share and the start instant: no load before it.
  wire::Go go{"run-1", split_load(load, {1, 3})[1], 42};
  auto g = std::get<wire::Go>(roundtrip(go));
  EXPECT_EQ(g.run_id, "run-1");
  EXPECT_EQ(g.share, go.share);
  EXPECT_EQ(g.start_ns, 42);
  EXPECT_EQ(type_name(type_of(go)), "GO");
}

TEST(Wire, ReportCarriesHistogramsExactly) {
  IntervalSnapshot snap;
  snap.start_ns = 1;
  snap.end_ns = 1'000'000'001;
  snap.in_flight = 3;
  GroupStats& g = snap.group({{"model", "m"}, {"target", "t"}});
  for (int i = 1; i <= 1000; ++i) g.record(Metric::kTtft, i * 37);
  g.counters.requests = 9;
  g.counters.ok = 9;
  g.record_error(ErrorKind::kHttp5xx, "boom");
  Report r;
  r.run_id = "r";
  r.seq = 1;
  r.snapshot = snap;
  RequestRow row;
  row.worker = "w";
  row.group = "g";
  row.prompt = 2;
  row.ttft_us = 1500;
  row.sent_unix_ns = 1'796'000'000'123'456'789;
  row.queue_us = 42;
  row.error = ErrorKind::kReset;
  r.requests = {row};
  auto back = std::get<Report>(roundtrip(r));
  ASSERT_TRUE(back.snapshot.has_value());
  EXPECT_EQ(*back.snapshot, snap);
  EXPECT_EQ(back.snapshot->groups[0].histogram(Metric::kTtft)->value_at_percentile(99),
            g.histogram(Metric::kTtft)->value_at_percentile(99));
  ASSERT_EQ(back.requests.size(), 1u);
  EXPECT_EQ(back.requests[0].ttft_us, 1500);
  EXPECT_EQ(back.requests[0].sent_unix_ns, 1'796'000'000'123'456'789);
  EXPECT_EQ(back.requests[0].queue_us, 42);
  EXPECT_FALSE(back.requests[0].e2e_us.has_value());
  EXPECT_EQ(back.requests[0].error, ErrorKind::kReset);
}

TEST(Wire, ReportSeqZeroNeedsPreflight) {
  json body = {{"run_id", "r"}, {"seq", 0}, {"final", false}};
  auto d = decode("REPORT", msgpack(body));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("preflight"), std::string::npos);
  Report r;
  r.run_id = "r";
  r.preflight = Preflight{false, {{"t1", "401 Unauthorized"}}, {"w"}};
  auto back = std::get<Report>(roundtrip(r));
  ASSERT_TRUE(back.preflight.has_value());
  EXPECT_FALSE(back.preflight->ok);
  EXPECT_EQ(back.preflight->failures[0].target, "t1");
}

TEST(Wire, RefusesUnknownTypeAndOversizedBody) {
  EXPECT_FALSE(decode("NOPE", msgpack(json::object())).ok());
  DecodeLimits lim;
  lim.max_body_bytes = 16;
  auto d = decode("BYE", msgpack({{"reason", std::string(100, 'x')}}), lim);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("exceeds"), std::string::npos);
}

TEST(Wire, RefusesWrongFieldTypes) {
  auto d = decode("PING", msgpack({{"seq", "one"}, {"sent_ns", 1}}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), "PING: seq: not an integer");
  d = decode("PING", msgpack({{"seq", -1}, {"sent_ns", 1}}));
  ASSERT_FALSE(d.ok());
  d = decode("PING", msgpack(json::array({1, 2})));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("not a map"), std::string::npos);
}

TEST(Wire, RefusesHistogramWithForeignSettings) {
  IntervalSnapshot snap;
  snap.end_ns = 1;
  snap.group({{"model", "m"}}).record(Metric::kTtft, 5);
  json w = snap.to_wire();
  HdrHistogram odd(1, 1000, 2);
  odd.record(5);
  std::string enc = odd.encode_compressed();
  w["groups"][0]["histograms"]["ttft"]["hdr"] =
      json::binary(std::vector<std::uint8_t>(enc.begin(), enc.end()));
  json body = {{"run_id", "r"}, {"seq", 1}, {"final", false}, {"snapshot", w}};
  auto d = decode("REPORT", msgpack(body));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("REPORT: snapshot"), std::string::npos) << d.error();
}

TEST(Wire, MsgpackWalkerRefusesHostileStructure) {
  EXPECT_EQ(check_msgpack(msgpack({{"a", {1, 2, {{"b", nullptr}}}}}), 32), "");
  // 100,000 nested arrays: would overflow a recursive parser's stack.
  std::string deep(100'000, '\x91');
  deep.push_back('\x01');
  EXPECT_NE(check_msgpack(deep, 32), "");
  EXPECT_FALSE(decode("BYE", deep).ok());
  // An array32 claiming 4 billion elements in 5 bytes.
  std::string liar = "\xdd\xff\xff\xff\xff";
  EXPECT_NE(check_msgpack(liar, 32), "");
  // A str32 claiming more bytes than there are.
  std::string str = std::string("\xdb\x00\x10\x00\x00", 5) + "abc";
  EXPECT_NE(check_msgpack(str, 32), "");
  // Trailing garbage after the value.
  std::string trailing = msgpack({{"reason", "x"}}) + "zz";
  EXPECT_NE(check_msgpack(trailing, 32), "");
  EXPECT_FALSE(decode("BYE", trailing).ok());
  // 0xc1 is never valid.
  EXPECT_NE(check_msgpack("\xc1", 32), "");
  EXPECT_NE(check_msgpack("", 32), "");
}

TEST(Wire, RandomBytesNeverCrash) {
  uint64_t x = 88172645463325252ull;
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::string body(x % 64, '\0');
    for (auto& c : body) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = static_cast<char>(x);
    }
    // Prefix a map header now and then so decoding gets deeper.
    if (i % 3 == 0) body.insert(body.begin(), '\x83');
    for (const char* t : {"HELLO", "REPORT", "RUN", "PING"}) decoded += decode(t, body).ok();
  }
  EXPECT_LT(decoded, 20000 * 4);
}

TEST(Wire, RunCarriesTheSharedFilesAndChecksThem) {
  wire::Run r;
  r.run_id = "run-f";
  r.scenario = nlohmann::json{{"name", "s"}};
  const std::string hash(64, 'a');
  r.files = {{"prompts.file", "/data/p.jsonl", 1234, hash},
             {"load.trace.file", "/data/t.csv", 0, std::string(64, '0')},
             {"prompts.tokenizer", "/data/tok.json", 99, std::string(64, 'f')}};
  auto back = std::get<wire::Run>(roundtrip(r));
  EXPECT_EQ(back.files, r.files);
  EXPECT_TRUE(back.prompts.empty());

  auto body = nlohmann::json::from_msgpack(encode_run_body(r));
  auto refused = [&](const nlohmann::json& b, const std::string& field) {
    std::string bytes;
    nlohmann::json::to_msgpack(b, bytes);
    auto d = decode("RUN", bytes);
    ASSERT_FALSE(d.ok()) << field;
    EXPECT_NE(d.error().find("RUN: " + field), std::string::npos) << d.error();
  };
  auto b = body;
  b["files"][0]["field"] = "output.file";
  refused(b, "files[0].field");
  b = body;
  b["files"][1]["sha256"] = "ABC";
  refused(b, "files[1].sha256");
  b = body;
  b["files"][2]["size"] = -1;
  refused(b, "files[2].size");
  b = body;
  b["files"][0]["path"] = "";
  refused(b, "files[0].path");
  b = body;
  b.erase("files");
  refused(b, "files");
}

// RUN's shared part is encoded once and each worker's fields appended to the encoded map.
TEST(Wire, RunBodyIsEncodedOnceWithPromptsInWireForm) {
  // The coordinator converts its prompt list once and encodes RUN once for every worker: the
  // bytes decode to the same RUN as one encoded from the prompts themselves.
  wire::Run r;
  r.run_id = "run-2";
  r.scenario = nlohmann::json{{"name", "s"}};
  ResolvedPrompt p;
  p.index = 0;
  p.text = "hello";
  r.prompts = {p};
  nlohmann::json converted = nlohmann::json::array({prompt_to_json(p)});
  wire::Run without = r;
  without.prompts.clear();
  const std::string once = encode_run_body(without, converted);
  EXPECT_EQ(once, encode_run_body(r));
  auto d = decode("RUN", once);
  ASSERT_TRUE(d.ok()) << d.error();
  const auto& back = std::get<wire::Run>(d.value());
  ASSERT_EQ(back.prompts.size(), 1u);
  EXPECT_EQ(back.prompts[0].text, "hello");
}

}  // namespace
}  // namespace llmload::wire
