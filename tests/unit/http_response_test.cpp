// HttpResponseParser: status, captured headers, every body framing, split at every byte
// boundary, bounds and malformed input.
#include "worker/http_response.h"

#include <gtest/gtest.h>

#include <string>

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

struct Sink : ResponseSink {
  int heads = 0;
  int status = 0;
  std::string request_id, content_type, body;
  bool stop_on_body = false;
  bool on_head(const ResponseHead& h) override {
    ++heads;
    status = h.status;
    request_id = std::string(h.request_id);
    content_type = std::string(h.content_type);
    return true;
  }
  bool on_body(const char* d, size_t n) override {
    body.append(d, n);
    return !stop_on_body;
  }
};

// Feeds `pieces` and returns the final status; finish() on EOF when `eof`.
HttpParseStatus feed_all(HttpResponseParser& p, const std::vector<std::string>& pieces, bool eof) {
  HttpParseStatus st = HttpParseStatus::kNeedMore;
  for (const std::string& s : pieces) {
    size_t used = 0;
    st = p.feed(s.data(), s.size(), &used);
    if (st != HttpParseStatus::kNeedMore) return st;
    EXPECT_EQ(used, s.size());
  }
  return eof ? p.finish() : st;
}

const std::string kContentLength =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Request-Id: req-42\r\n"
    "Content-Length: 11\r\n\r\nhello world";
const std::string kChunked =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-request-id: abc\r\n"
    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
const std::string kCloseDelimited =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello world";

struct Case {
  const std::string* text;
  bool eof;
  bool keep_alive;
  const char* request_id;
  const char* content_type;
};

TEST(HttpResponseParser, EveryFramingAtEveryTwoWaySplit) {
  const Case cases[] = {
      {&kContentLength, false, true, "req-42", "text/event-stream"},
      {&kChunked, false, true, "abc", "text/event-stream"},
      {&kCloseDelimited, true, false, "", "text/plain"},
  };
  for (const Case& c : cases) {
    const std::string& text = *c.text;
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      Sink sink;
      HttpResponseParser p(&sink);
      HttpParseStatus st = feed_all(p, {text.substr(0, cut), text.substr(cut)}, c.eof);
      ASSERT_EQ(st, HttpParseStatus::kComplete) << "cut at " << cut << " of " << text;
      EXPECT_EQ(sink.heads, 1);
      EXPECT_EQ(sink.status, 200);
      EXPECT_EQ(sink.body, "hello world");
      EXPECT_EQ(sink.request_id, c.request_id);
      EXPECT_EQ(sink.content_type, c.content_type);
      EXPECT_EQ(p.keep_alive(), c.keep_alive);
    }
  }
}

TEST(HttpResponseParser, ByteAtATime) {
  for (const std::string* text : {&kContentLength, &kChunked}) {
    Sink sink;
    HttpResponseParser p(&sink);
    std::vector<std::string> bytes;
    for (char ch : *text) bytes.emplace_back(1, ch);
    EXPECT_EQ(feed_all(p, bytes, false), HttpParseStatus::kComplete);
    EXPECT_EQ(sink.body, "hello world");
  }
}

TEST(HttpResponseParser, ResetParsesTheNextResponse) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {kContentLength}, false), HttpParseStatus::kComplete);
  p.reset();
  EXPECT_FALSE(p.started());
  sink.body.clear();
  EXPECT_EQ(feed_all(p, {kChunked}, false), HttpParseStatus::kComplete);
  EXPECT_EQ(sink.body, "hello world");
  EXPECT_EQ(sink.heads, 2);
}

TEST(HttpResponseParser, BytesAfterTheResponseAreLeftUnconsumed) {
  Sink sink;
  HttpResponseParser p(&sink);
  const std::string two = kContentLength + "HTTP/1.1 200 OK\r\n";
  size_t used = 0;
  EXPECT_EQ(p.feed(two.data(), two.size(), &used), HttpParseStatus::kComplete);
  EXPECT_EQ(used, kContentLength.size());
}

TEST(HttpResponseParser, InterimResponseIsSkipped) {
  Sink sink;
  HttpResponseParser p(&sink);
  const std::string text = "HTTP/1.1 100 Continue\r\n\r\n" + kContentLength;
  EXPECT_EQ(feed_all(p, {text}, false), HttpParseStatus::kComplete);
  EXPECT_EQ(sink.heads, 1);
  EXPECT_EQ(sink.status, 200);
}

TEST(HttpResponseParser, ErrorStatusIsHandedUpNotAnError) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}"}, false),
            HttpParseStatus::kComplete);
  EXPECT_EQ(sink.status, 429);
  EXPECT_EQ(sink.body, "{}");
}

TEST(HttpResponseParser, TruncatedChunkedBodyIsTruncated) {
  const std::string cut = kChunked.substr(0, kChunked.size() - 5);  // no terminator
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {cut}, true), HttpParseStatus::kError);
  EXPECT_TRUE(p.truncated());
  EXPECT_NE(p.error().find("before the end of the response body"), std::string::npos);
}

TEST(HttpResponseParser, ShortContentLengthBodyIsTruncated) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {kContentLength.substr(0, kContentLength.size() - 3)}, true),
            HttpParseStatus::kError);
  EXPECT_TRUE(p.truncated());
}

TEST(HttpResponseParser, EofInsideHeadersIsTruncated) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {"HTTP/1.1 200 OK\r\nContent-"}, true), HttpParseStatus::kError);
  EXPECT_TRUE(p.truncated());
  EXPECT_EQ(sink.heads, 0);
}

TEST(HttpResponseParser, EofBeforeAnyByteIsNotAnError) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(p.finish(), HttpParseStatus::kNeedMore);
  EXPECT_FALSE(p.started());
}

TEST(HttpResponseParser, GarbageIsAProtocolError) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {"garbage\r\n\r\n"}, false), HttpParseStatus::kError);
  EXPECT_FALSE(p.truncated());
  EXPECT_NE(p.error().find("malformed HTTP response"), std::string::npos);
}

TEST(HttpResponseParser, StatusBelow100IsAProtocolError) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {"HTTP/1.1 011 Odd\r\nContent-Length: 0\r\n\r\n"}, false),
            HttpParseStatus::kError);
  EXPECT_EQ(sink.heads, 0);
  EXPECT_NE(p.error().find("invalid HTTP status"), std::string::npos);
}

TEST(HttpResponseParser, BadChunkSizeIsAProtocolError) {
  Sink sink;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}, false),
            HttpParseStatus::kError);
  EXPECT_FALSE(p.truncated());
}

TEST(HttpResponseParser, HeadersOverTheBoundAreRefused) {
  Sink sink;
  HttpResponseParser p(&sink);
  std::string big = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 2000; ++i)
    big += "X-Filler-" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
  EXPECT_EQ(feed_all(p, {big}, false), HttpParseStatus::kError);
  EXPECT_NE(p.error().find("exceed"), std::string::npos);
  EXPECT_EQ(sink.heads, 0);
}

TEST(HttpResponseParser, LongRequestIdIsBounded) {
  Sink sink;
  HttpResponseParser p(&sink);
  std::string text = "HTTP/1.1 200 OK\r\nX-Request-Id: " + std::string(1000, 'a') +
                     "\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(feed_all(p, {text}, false), HttpParseStatus::kComplete);
  EXPECT_EQ(sink.request_id.size(), HttpResponseParser::kMaxRequestIdBytes);
}

TEST(HttpResponseParser, SinkCanStopTheParse) {
  Sink sink;
  sink.stop_on_body = true;
  HttpResponseParser p(&sink);
  EXPECT_EQ(feed_all(p, {kChunked}, false), HttpParseStatus::kStopped);
  EXPECT_EQ(sink.body, "hello");
}

}  // namespace
}  // namespace llmload
