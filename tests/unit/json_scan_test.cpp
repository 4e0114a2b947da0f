#include "worker/json_scan.h"

#include <gtest/gtest.h>

#include <string>

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

TEST(JsonScan, FindsMembersInOnePass) {
  const std::string doc =
      R"({"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":" hi"}}],"usage":null,)"
      R"("n":-12.5e2,"ok":true})";
  JsonSlice f[5];
  ASSERT_TRUE(json_find_members(doc, {"choices", "usage", "id", "missing", "ok"}, f));
  EXPECT_EQ(f[0].type, JsonType::array);
  EXPECT_EQ(f[0].raw, R"([{"index":0,"delta":{"content":" hi"}}])");
  EXPECT_TRUE(f[1].is_null());
  EXPECT_EQ(f[2].string_raw(), "chatcmpl-1");
  EXPECT_FALSE(f[3].present());
  EXPECT_TRUE(f[4].is_true());

  bool ok = false;
  JsonSlice c0 = json_array_element(f[0].raw, 0, &ok);
  ASSERT_TRUE(ok);
  ASSERT_TRUE(c0.is_object());
  JsonSlice delta;
  ASSERT_TRUE(json_find_members(c0.raw, {"delta"}, &delta));
  JsonSlice content;
  ASSERT_TRUE(json_find_members(delta.raw, {"content"}, &content));
  EXPECT_TRUE(content.is_nonempty_string());
  EXPECT_EQ(content.string_raw(), " hi");

  JsonSlice c1 = json_array_element(f[0].raw, 1, &ok);
  EXPECT_TRUE(ok);
  EXPECT_FALSE(c1.present());
}

TEST(JsonScan, FirstOfRepeatedMemberWins) {
  JsonSlice v;
  ASSERT_TRUE(json_find_members(R"({"a":1,"a":2})", {"a"}, &v));
  EXPECT_EQ(v.raw, "1");
}

TEST(JsonScan, EmptyStringAndContainers) {
  JsonSlice f[3];
  ASSERT_TRUE(json_find_members(R"({ "s" : "" , "o" : { } , "a" : [ ] })", {"s", "o", "a"}, f));
  EXPECT_TRUE(f[0].is_string());
  EXPECT_FALSE(f[0].is_nonempty_string());
  EXPECT_TRUE(f[1].is_empty_container());
  EXPECT_TRUE(f[2].is_empty_container());
  ASSERT_TRUE(json_find_members(R"({"a":[0]})", {"a"}, f));
  EXPECT_FALSE(f[0].is_empty_container());
}

TEST(JsonScan, RejectsMalformedText) {
  JsonSlice v;
  for (const char* bad : {"",
                          "{",
                          "}",
                          "{\"a\"}",
                          "{\"a\":}",
                          "{\"a\":1,}",
                          "{\"a\":1 \"b\":2}",
                          "{\"a\":tru}",
                          "{\"a\":\"x}",
                          "{\"a\":\"\\q\"}",
                          "{\"a\":\"\\u12g4\"}",
                          "{\"a\":01}",
                          "{\"a\":1.}",
                          "{\"a\":-}",
                          "{\"a\":1e}",
                          "{\"a\":[1,2}",
                          "{\"a\":1}x",
                          "{a:1}",
                          "[1]",
                          "{\"a\":\"tab\there\"}"}) {
    EXPECT_FALSE(json_find_members(bad, {"a"}, &v)) << bad;
  }
  bool ok = true;
  json_array_element("[1,", 0, &ok);
  EXPECT_FALSE(ok);
  json_array_element("[1,]", 0, &ok);
  EXPECT_FALSE(ok);
}

TEST(JsonScan, DepthIsBounded) {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 200; ++i) deep += '[';
  for (int i = 0; i < 200; ++i) deep += ']';
  deep += '}';
  JsonSlice v;
  EXPECT_FALSE(json_find_members(deep, {"a"}, &v));
  std::string shallow = "{\"a\":[[[[1]]]]}";
  EXPECT_TRUE(json_find_members(shallow, {"a"}, &v));
}

TEST(JsonScan, ParseValueTrimsWhitespace) {
  JsonSlice v = json_parse_value("  {\"x\": [1, 2]}\r\n");
  EXPECT_EQ(v.type, JsonType::object);
  EXPECT_EQ(v.raw, "{\"x\": [1, 2]}");
  EXPECT_FALSE(json_parse_value("{} {}").present());
  EXPECT_FALSE(json_parse_value("").present());
}

TEST(JsonScan, Numbers) {
  int64_t i = 0;
  double d = 0;
  EXPECT_TRUE(json_to_int({JsonType::number, "137"}, i));
  EXPECT_EQ(i, 137);
  EXPECT_TRUE(json_to_int({JsonType::number, "-5"}, i));
  EXPECT_EQ(i, -5);
  EXPECT_TRUE(json_to_int({JsonType::number, "16.0"}, i));
  EXPECT_EQ(i, 16);
  EXPECT_FALSE(json_to_int({JsonType::number, "16.5"}, i));
  EXPECT_FALSE(json_to_int({JsonType::string, "\"16\""}, i));
  EXPECT_FALSE(json_to_int({JsonType::number, "1e300"}, i));
  EXPECT_TRUE(json_to_double({JsonType::number, "64.288"}, d));
  EXPECT_DOUBLE_EQ(d, 64.288);
  EXPECT_TRUE(json_to_double({JsonType::number, "1.2e-3"}, d));
  EXPECT_DOUBLE_EQ(d, 0.0012);
}

TEST(JsonScan, Unescape) {
  std::string out;
  ASSERT_TRUE(json_unescape({JsonType::string, R"("a\"b\\c\/\n\u00e9\ud83d\ude00")"}, out));
  EXPECT_EQ(out, "a\"b\\c/\n\xC3\xA9\xF0\x9F\x98\x80");
  out.clear();
  ASSERT_TRUE(json_unescape({JsonType::string, R"("\ud800x")"}, out));
  EXPECT_EQ(out, "\xEF\xBF\xBDx");  // a lone surrogate becomes U+FFFD
  out.clear();
  EXPECT_FALSE(json_unescape({JsonType::string, R"("\x")"}, out));
  EXPECT_FALSE(json_unescape({JsonType::number, "1"}, out));
}

}  // namespace
}  // namespace llmload
