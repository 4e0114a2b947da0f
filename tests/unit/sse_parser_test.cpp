#include "worker/sse_parser.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/alloc_counter.h"
#include "tests/unit/stream_test_util.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using Events = std::vector<std::pair<std::string, std::string>>;

struct Recorder : SseParser::Sink {
  Events events;
  size_t stop_after = SIZE_MAX;
  bool on_event(std::string_view e, std::string_view d) override {
    events.emplace_back(std::string(e), std::string(d));
    return events.size() < stop_after;
  }
};

// Parses `input` fed whole, split at every byte boundary and one byte at a time; every way
// must give `expected`.
void expect_events(std::string_view input, const Events& expected) {
  testutil::for_each_split(input, [&](const auto& feed_all) {
    SseParser parser;
    Recorder rec;
    bool ok = true;
    feed_all(
        [&](std::string_view piece) { ok = ok && parser.feed(piece, rec) == ParseStatus::ok; });
    ASSERT_TRUE(ok);
    ASSERT_EQ(rec.events, expected) << "input: " << ::testing::PrintToString(std::string(input));
  });
}

TEST(SseParser, DispatchesOnBlankLine) {
  expect_events("data: hello\n\n", {{"", "hello"}});
  expect_events("data: a\n\ndata: b\n\n", {{"", "a"}, {"", "b"}});
}

TEST(SseParser, LineEndsLfCrlfCrAndMixed) {
  expect_events("data: a\r\n\r\ndata: b\r\n\r\n", {{"", "a"}, {"", "b"}});
  expect_events("data: a\r\rdata: b\r\r", {{"", "a"}, {"", "b"}});
  expect_events("data: a\r\ndata: b\r\n\ndata: c\r\r\n", {{"", "a\nb"}, {"", "c"}});
  // A CR followed by CRLF is two line ends (a blank line), not one.
  expect_events("data: x\r\r\ndata: y\n\n", {{"", "x"}, {"", "y"}});
}

TEST(SseParser, CrAtEndOfOneFeedAndLfAtStartOfNext) {
  SseParser parser;
  Recorder rec;
  ASSERT_EQ(parser.feed("data: a\r", rec), ParseStatus::ok);
  ASSERT_EQ(parser.feed("\n\r", rec), ParseStatus::ok);
  ASSERT_EQ(rec.events, (Events{{"", "a"}}));
  // The LF after the second CR belongs to it: no extra blank line, no extra dispatch.
  ASSERT_EQ(parser.feed("\ndata: b\r", rec), ParseStatus::ok);
  ASSERT_EQ(parser.feed("\n\r\n", rec), ParseStatus::ok);
  EXPECT_EQ(rec.events, (Events{{"", "a"}, {"", "b"}}));
}

TEST(SseParser, MultiLineDataJoinedWithNewline) {
  expect_events("data: line1\ndata: line2\ndata:\ndata: line4\n\n",
                {{"", "line1\nline2\n\nline4"}});
}

TEST(SseParser, CommentsIdRetryAndUnknownFieldsIgnored) {
  expect_events(": ping\n\n:another\ndata: x\nid: 7\nretry: 3000\nfoo: bar\n\n", {{"", "x"}});
  expect_events(": only a comment\n\n", {});
}

TEST(SseParser, EventNameAppliesToOneEvent) {
  expect_events("event: content_block_delta\ndata: {}\n\ndata: next\n\n",
                {{"content_block_delta", "{}"}, {"", "next"}});
  expect_events("event: a\nevent: b\ndata: x\n\n", {{"b", "x"}});
}

TEST(SseParser, EventWithoutDataNotDispatchedAndItsNameDropped) {
  expect_events("event: ping\n\ndata: y\n\n", {{"", "y"}});
  expect_events("id: 3\n\n", {});
}

TEST(SseParser, OptionalSingleSpaceAfterColon) {
  expect_events("data:x\n\n", {{"", "x"}});
  expect_events("data:  two\n\n", {{"", " two"}});
  expect_events("data: a:b: c\n\n", {{"", "a:b: c"}});
  expect_events("event:e\ndata:\n\n", {{"e", ""}});
}

TEST(SseParser, FieldWithNoColon) {
  // "data" alone is a data field with an empty value: the event is dispatched with "".
  expect_events("data\n\n", {{"", ""}});
  expect_events("data\ndata\n\n", {{"", "\n"}});
  // "event" alone sets an empty name.
  expect_events("event\ndata: z\n\n", {{"", "z"}});
}

TEST(SseParser, LeadingBomSkippedOnlyAtStreamStart) {
  expect_events(
      "\xEF\xBB\xBF"
      "data: x\n\n",
      {{"", "x"}});
  // A second BOM is part of the field name, which then is unknown.
  expect_events(
      "\xEF\xBB\xBF\xEF\xBB\xBF"
      "data: x\n\ndata: y\n\n",
      {{"", "y"}});
  // A partial BOM prefix is data of the first line, not dropped.
  expect_events(
      "\xEF\xBB"
      "data: x\n\ndata: y\n\n",
      {{"", "y"}});
  // No BOM: nothing is eaten.
  expect_events("data: \xEF\xBB\xBF\n\n", {{"", "\xEF\xBB\xBF"}});
}

TEST(SseParser, IncompleteEventAtEndNotDispatched) {
  expect_events("data: a\n\ndata: b\n", {{"", "a"}});
  expect_events("data: a\n\ndata: b", {{"", "a"}});
}

TEST(SseParser, OpenAiStreamShape) {
  const std::string in =
      "data: {\"choices\":[{\"delta\":{\"content\":\" a\"}}]}\n\n"
      ": keep-alive\n\n"
      "data: [DONE]\n\n";
  expect_events(in, {{"", "{\"choices\":[{\"delta\":{\"content\":\" a\"}}]}"}, {"", "[DONE]"}});
}

TEST(SseParser, CapturedLlamaCppStreamGivesOneEventPerChunk) {
  const std::string body = testutil::capture_body("chat-stream-usage");
  Events whole;
  {
    SseParser parser;
    Recorder rec;
    ASSERT_EQ(parser.feed(body, rec), ParseStatus::ok);
    whole = rec.events;
  }
  ASSERT_EQ(whole.size(), 18u);
  EXPECT_EQ(whole.back().second, "[DONE]");
  EXPECT_EQ(whole.front().second.substr(0, 12), "{\"choices\":[");
  expect_events(body, whole);
}

TEST(SseParser, EventOverLimitIsProtocolError) {
  SseParser parser(16);
  Recorder rec;
  // Exactly 16 bytes of data is accepted.
  ASSERT_EQ(parser.feed("data: 0123456789abcdef\n\n", rec), ParseStatus::ok);
  ASSERT_EQ(rec.events.size(), 1u);
  // 17 bytes is not.
  EXPECT_EQ(parser.feed("data: 0123456789abcdefg\n\n", rec), ParseStatus::too_large);
  EXPECT_TRUE(parser.failed());
  // The parser stays failed until reset.
  EXPECT_EQ(parser.feed("data: ok\n\n", rec), ParseStatus::too_large);
  EXPECT_EQ(rec.events.size(), 1u);
  parser.reset();
  EXPECT_EQ(parser.feed("data: ok\n\n", rec), ParseStatus::ok);
  EXPECT_EQ(rec.events.size(), 2u);
}

TEST(SseParser, JoinedDataCountsTowardTheLimit) {
  SseParser parser(16);
  Recorder rec;
  // Two lines of 8: joined "xxxxxxxx\nxxxxxxxx" is 17 bytes.
  EXPECT_EQ(parser.feed("data: 12345678\ndata: 12345678\n\n", rec), ParseStatus::too_large);
  EXPECT_TRUE(rec.events.empty());
}

TEST(SseParser, EndlessLineRefusedWithoutGrowing) {
  SseParser parser(1024);
  Recorder rec;
  const std::string piece(100, 'x');
  ParseStatus st = parser.feed("data: ", rec);
  int feeds = 0;
  while (st == ParseStatus::ok && feeds < 1000) {
    st = parser.feed(piece, rec);
    ++feeds;
  }
  EXPECT_EQ(st, ParseStatus::too_large);
  EXPECT_LE(feeds, 11);  // refused as soon as the line passed the limit
  // An endless comment line is bounded too.
  SseParser p2(1024);
  st = p2.feed(":", rec);
  feeds = 0;
  while (st == ParseStatus::ok && feeds < 1000) {
    st = p2.feed(piece, rec);
    ++feeds;
  }
  EXPECT_EQ(st, ParseStatus::too_large);
}

TEST(SseParser, LimitSettable) {
  SseParser parser;
  EXPECT_EQ(parser.max_event_bytes(), kDefaultMaxEventBytes);
  parser.set_max_event_bytes(4);
  Recorder rec;
  EXPECT_EQ(parser.feed("data: 12345\n\n", rec), ParseStatus::too_large);
}

TEST(SseParser, SinkCanStop) {
  SseParser parser;
  Recorder rec;
  rec.stop_after = 1;
  EXPECT_EQ(parser.feed("data: a\n\ndata: b\n\n", rec), ParseStatus::stopped);
  EXPECT_EQ(rec.events.size(), 1u);
}

struct NullSink : SseParser::Sink {
  size_t n = 0, bytes = 0;
  bool on_event(std::string_view e, std::string_view d) override {
    ++n;
    bytes += e.size() + d.size();
    return true;
  }
};

TEST(SseParser, NoHeapAllocationPerEventOnceWarmedUp) {
  const std::string body = testutil::capture_body("chat-stream-usage");
  const std::string named = "event: content_block_delta\ndata: {\"x\":1}\ndata: more\n\n";
  SseParser parser;
  NullSink sink;
  // Warm up: one byte at a time, so every line (the longest too) passes through the carry-over
  // buffer once and sizes it.
  for (char c : body) ASSERT_EQ(parser.feed(&c, 1, sink), ParseStatus::ok);
  ASSERT_EQ(parser.feed(named, sink), ParseStatus::ok);
  const long before = g_allocs.load();
  for (int round = 0; round < 50; ++round) {
    const size_t cut = 1 + size_t(round * 37) % (body.size() - 1);
    parser.feed(body.data(), cut, sink);
    parser.feed(body.data() + cut, body.size() - cut, sink);
    parser.feed(named, sink);
  }
  EXPECT_EQ(g_allocs.load() - before, 0);
  EXPECT_EQ(sink.n, 18u * 51 + 51);
}

}  // namespace
}  // namespace llmload
