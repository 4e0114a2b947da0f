#include "worker/ndjson_parser.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "tests/unit/alloc_counter.h"
#include "tests/unit/stream_test_util.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using Lines = std::vector<std::string>;

struct Recorder : NdjsonParser::Sink {
  Lines lines;
  size_t stop_after = SIZE_MAX;
  bool on_line(std::string_view l) override {
    lines.emplace_back(l);
    return lines.size() < stop_after;
  }
};

void expect_lines(std::string_view input, const Lines& expected, bool finish = false) {
  testutil::for_each_split(input, [&](const auto& feed_all) {
    NdjsonParser parser;
    Recorder rec;
    bool ok = true;
    feed_all(
        [&](std::string_view piece) { ok = ok && parser.feed(piece, rec) == ParseStatus::ok; });
    if (finish) ok = ok && parser.finish(rec) == ParseStatus::ok;
    ASSERT_TRUE(ok);
    ASSERT_EQ(rec.lines, expected) << ::testing::PrintToString(std::string(input));
  });
}

TEST(NdjsonParser, OneCallbackPerLine) {
  expect_lines("{\"a\":1}\n{\"b\":2}\n", {"{\"a\":1}", "{\"b\":2}"});
}

TEST(NdjsonParser, CrlfStripped) {
  expect_lines("{\"a\":1}\r\n{\"b\":2}\r\n", {"{\"a\":1}", "{\"b\":2}"});
  // A CR inside a line is kept (only the CR of a CRLF is a line end).
  expect_lines("a\rb\n", {"a\rb"});
}

TEST(NdjsonParser, BlankLinesSkipped) {
  expect_lines("\n\n{\"a\":1}\n\r\n  \t\n{\"b\":2}\n\n", {"{\"a\":1}", "{\"b\":2}"});
}

TEST(NdjsonParser, UnterminatedLastLineOnlyOnFinish) {
  expect_lines("{\"a\":1}\n{\"b\":2}", {"{\"a\":1}"});
  expect_lines("{\"a\":1}\n{\"b\":2}", {"{\"a\":1}", "{\"b\":2}"}, /*finish=*/true);
  expect_lines("{\"a\":1}\n  ", {"{\"a\":1}"}, /*finish=*/true);
}

TEST(NdjsonParser, OllamaFixture) {
  const std::string body = testutil::stream_fixture("ollama-generate.ndjson");
  NdjsonParser parser;
  Recorder rec;
  ASSERT_EQ(parser.feed(body, rec), ParseStatus::ok);
  ASSERT_EQ(rec.lines.size(), 5u);
  EXPECT_EQ(parser.lines(), 5u);
  expect_lines(body, rec.lines);
}

TEST(NdjsonParser, LineOverLimitIsProtocolError) {
  NdjsonParser parser(8);
  Recorder rec;
  ASSERT_EQ(parser.feed("12345678\r\n", rec), ParseStatus::ok);  // exactly the limit
  EXPECT_EQ(parser.feed("123456789\n", rec), ParseStatus::too_large);
  EXPECT_TRUE(parser.failed());
  EXPECT_EQ(parser.feed("1\n", rec), ParseStatus::too_large);
  EXPECT_EQ(rec.lines, Lines{"12345678"});
  parser.reset();
  EXPECT_EQ(parser.feed("1\n", rec), ParseStatus::ok);
  EXPECT_EQ(rec.lines.size(), 2u);
}

TEST(NdjsonParser, UnterminatedLineOverLimitRefusedAtFinish) {
  // Found by fuzzing: a last line of limit + 1 bytes is buffered (it might end in a CR) and
  // must still be refused when the body ends.
  NdjsonParser parser(8);
  Recorder rec;
  ASSERT_EQ(parser.feed("123456789", rec), ParseStatus::ok);
  EXPECT_EQ(parser.finish(rec), ParseStatus::too_large);
  EXPECT_TRUE(rec.lines.empty());
  NdjsonParser p2(8);
  ASSERT_EQ(p2.feed("12345678\r", rec), ParseStatus::ok);
  EXPECT_EQ(p2.finish(rec), ParseStatus::ok);
  EXPECT_EQ(rec.lines, Lines{"12345678"});
}

TEST(NdjsonParser, EndlessLineRefusedWithoutGrowing) {
  NdjsonParser parser(1000);
  Recorder rec;
  const std::string piece(100, 'x');
  ParseStatus st = ParseStatus::ok;
  int feeds = 0;
  while (st == ParseStatus::ok && feeds < 1000) {
    st = parser.feed(piece, rec);
    ++feeds;
  }
  EXPECT_EQ(st, ParseStatus::too_large);
  EXPECT_LE(feeds, 11);
}

TEST(NdjsonParser, SinkCanStop) {
  NdjsonParser parser;
  Recorder rec;
  rec.stop_after = 1;
  EXPECT_EQ(parser.feed("a\nb\n", rec), ParseStatus::stopped);
  EXPECT_EQ(rec.lines, Lines{"a"});
}

struct NullSink : NdjsonParser::Sink {
  size_t n = 0;
  bool on_line(std::string_view) override {
    ++n;
    return true;
  }
};

TEST(NdjsonParser, NoHeapAllocationPerLineOnceWarmedUp) {
  const std::string body = testutil::stream_fixture("ollama-chat.ndjson");
  NdjsonParser parser;
  NullSink sink;
  for (char c : body) ASSERT_EQ(parser.feed(&c, 1, sink), ParseStatus::ok);
  const long before = g_allocs.load();
  for (int round = 0; round < 50; ++round) {
    const size_t cut = 1 + size_t(round * 41) % (body.size() - 1);
    parser.feed(body.data(), cut, sink);
    parser.feed(body.data() + cut, body.size() - cut, sink);
  }
  EXPECT_EQ(g_allocs.load() - before, 0);
  EXPECT_EQ(sink.n, 6u * 51);
}

}  // namespace
}  // namespace llmload
