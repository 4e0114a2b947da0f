// The tokenizer (common/tokenizer.h) on small tokenizer.json and .tiktoken files built here:
// BPE merge order, whole-word lookup, added tokens, the byte-level map, and a clear error
// naming the field for every malformed or hostile file. (The cross-check against the npm
// reference implementations on real vocabularies is tokenizer_reference_test.cpp.)
#include "common/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/base64.h"
#include "common/tokenizer_bpe.h"

namespace llmload {
namespace {

using nlohmann::json;

// The byte-level string of raw bytes (GPT-2's map).
std::string bl(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    const uint32_t cp = byte_level_char(b);
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// A byte-level BPE tokenizer.json: ids 0..255 are the bytes, then each merge's result in order.
json small_json(const std::vector<std::pair<std::string, std::string>>& merges,
                bool ignore_merges = false, json pre = nullptr) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[bl(std::string(1, static_cast<char>(b)))] = b;
  json m = json::array();
  uint32_t next = 256;
  for (const auto& [l, r] : merges) {
    m.push_back(bl(l) + " " + bl(r));
    if (!vocab.contains(bl(l + r))) vocab[bl(l + r)] = next++;
  }
  if (pre.is_null())
    pre = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  return {{"model",
           {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}, {"ignore_merges", ignore_merges}}},
          {"pre_tokenizer", pre},
          {"added_tokens", json::array()}};
}

std::shared_ptr<const Tokenizer> load_json(const json& j) {
  auto t = Tokenizer::from_tokenizer_json(j.dump(), "test.json");
  EXPECT_TRUE(t) << t.error();
  return t ? *t : nullptr;
}

std::string json_error(const json& j) {
  auto t = Tokenizer::from_tokenizer_json(j.dump(), "test.json");
  EXPECT_FALSE(t);
  return t ? "" : t.error();
}

std::vector<std::string> pieces(const Tokenizer& t, std::string_view text) {
  std::vector<std::string> out;
  for (uint32_t id : t.encode(text)) out.push_back(t.decode({id}));
  return out;
}

using Pieces = std::vector<std::string>;

TEST(Tokenizer, MergesApplyLowestRankFirst) {
  auto t = load_json(small_json({{"a", "b"}, {"b", "c"}}));
  EXPECT_EQ(pieces(*t, "abc"), (Pieces{"ab", "c"}));
  auto u = load_json(small_json({{"b", "c"}, {"a", "b"}}));
  EXPECT_EQ(pieces(*u, "abc"), (Pieces{"a", "bc"}));
}

TEST(Tokenizer, EqualRanksMergeLeftmostFirst) {
  auto t = load_json(small_json({{"a", "a"}}));
  EXPECT_EQ(pieces(*t, "aaa"), (Pieces{"aa", "a"}));
  EXPECT_EQ(pieces(*t, "aaaa"), (Pieces{"aa", "aa"}));
}

TEST(Tokenizer, MergesChainIntoLongerTokens) {
  auto t = load_json(small_json({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}}));
  EXPECT_EQ(pieces(*t, "hello"), (Pieces{"hello"}));
  EXPECT_EQ(pieces(*t, "hello wx"), (Pieces{"hello", " w", "x"}));
  EXPECT_EQ(t->count("hello wx"), 3u);
  EXPECT_EQ(t->decode(t->encode("hello wx")), "hello wx");
}

TEST(Tokenizer, IgnoreMergesLooksUpWholePiecesFirst) {
  // "abc" is a token, but the merges only reach "ab" + "c" ("bc" ranks first and blocks "ab").
  json j = small_json({{"b", "c"}, {"a", "b"}});
  j["model"]["vocab"][bl("abc")] = 300;
  EXPECT_EQ(pieces(*load_json(j), "abc"), (Pieces{"a", "bc"}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(load_json(j)->encode("abc"), (std::vector<uint32_t>{300}));
}

TEST(Tokenizer, SplitPatternIsolatesPiecesBeforeMerging) {
  json pre = {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"},
                 {"pattern", {{"Regex", R"(\p{N}{1,3}|\p{L}+|\s+)"}}},
                 {"behavior", "Isolated"},
                 {"invert", false}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  auto t = load_json(small_json({{"1", "2"}, {"12", "3"}, {"3", "4"}}, false, pre));
  // Digits split in threes: "1234" is "123" + "4", never "12" + "34".
  EXPECT_EQ(pieces(*t, "1234"), (Pieces{"123", "4"}));
  // Text no alternative matches ("!") is still a piece of its own.
  EXPECT_EQ(pieces(*t, "12!"), (Pieces{"12", "!"}));
}

TEST(Tokenizer, AddPrefixSpaceAddsOneSpace) {
  json pre = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  auto t = load_json(small_json({{" ", "a"}}, false, pre));
  EXPECT_EQ(pieces(*t, "a"), (Pieces{" a"}));
  EXPECT_EQ(pieces(*t, " a"), (Pieces{" a"}));
}

TEST(Tokenizer, AddedTokensAreMatchedInTheTextLongestFirst) {
  json j = small_json({});
  j["added_tokens"] = {{{"id", 1000}, {"content", "<|x|>"}, {"special", true}},
                       {{"id", 1001}, {"content", "<|x|>y"}, {"special", true}},
                       {{"id", 1002}, {"content", "[S]"}, {"lstrip", true}, {"rstrip", true}}};
  auto t = load_json(j);
  EXPECT_EQ(t->encode("<|x|>"), (std::vector<uint32_t>{1000}));
  EXPECT_EQ(t->encode("<|x|>y"), (std::vector<uint32_t>{1001}));
  const std::vector<uint32_t> ab = t->encode("a  [S]  b");
  EXPECT_EQ(ab, (std::vector<uint32_t>{'a', 1002, 'b'}));  // the spaces went into [S]
  EXPECT_EQ(t->decode({1000}), "<|x|>");
}

TEST(Tokenizer, EveryByteStringRoundTripsAndInvalidUtf8BecomesReplacementChars) {
  auto t = load_json(small_json({{"a", "b"}, {"\xC3", "\xA9"}}));
  EXPECT_EQ(t->decode(t->encode("ab é ü 日本 😀\t\n  x")), "ab é ü 日本 😀\t\n  x");
  EXPECT_EQ(t->decode(t->encode("a\xFF"
                                "b\xC3")),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_TRUE(t->encode("").empty());
}

TEST(Tokenizer, EncodeIsSafeFromManyThreads) {
  auto t = load_json(small_json({{"a", "b"}, {"ab", "c"}, {" ", "a"}}));
  const std::string text = "abc ab a abcabc  ab\n";
  const std::vector<uint32_t> want = t->encode(text);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i) ok[k] += t->encode(text) == want;
    });
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(ok[k], 500);
}

TEST(Tokenizer, MalformedTokenizerJsonNamesTheField) {
  EXPECT_NE(json_error(json{{"pre_tokenizer", nullptr}}).find("model"), std::string::npos);
  json j = small_json({});
  j["model"]["type"] = "Unigram";
  EXPECT_NE(json_error(j).find("model.type: 'Unigram'"), std::string::npos);
  j = small_json({});
  j["model"]["vocab"]["x"] = "seven";
  EXPECT_NE(json_error(j).find("model.vocab: 'x': id is not a whole number"), std::string::npos);
  j = small_json({});
  j["model"]["vocab"]["x"] = 5000000;
  EXPECT_NE(json_error(j).find("over the limit"), std::string::npos);
  j = small_json({});
  j["model"]["vocab"]["x"] = 7;  // id 7 is byte 7's already
  EXPECT_NE(json_error(j).find("model.vocab: id 7 is given twice"), std::string::npos);
  j = small_json({});
  j["model"]["vocab"].erase(bl("A"));
  EXPECT_NE(json_error(j).find("no token for byte 65"), std::string::npos);
  j = small_json({});
  j["model"]["merges"] = {"a"};
  EXPECT_NE(json_error(j).find("model.merges[0]: expected 'left right'"), std::string::npos);
  j = small_json({});
  j["model"]["merges"] = {"a b"};  // "ab" is not in the vocabulary
  EXPECT_NE(json_error(j).find("model.merges[0]: the merged token"), std::string::npos);
  j = small_json({});
  j["model"]["merges"] = 3;
  EXPECT_NE(json_error(j).find("model.merges: missing or not a list"), std::string::npos);
  j = small_json({});
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_NE(json_error(j).find("pre_tokenizer.type: 'Metaspace' is not supported"),
            std::string::npos);
  j = small_json({});
  j["pre_tokenizer"] = nullptr;
  EXPECT_NE(json_error(j).find("no ByteLevel step"), std::string::npos);
  j = small_json(
      {}, false,
      {{"type", "Sequence"},
       {"pretokenizers",
        {{{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}},
         {{"type", "ByteLevel"}}}}});
  const std::string err = json_error(j);
  EXPECT_NE(err.find("pre_tokenizer.pretokenizers[0].pattern: pattern does not compile (PCRE2:"),
            std::string::npos)
      << err;
  j = small_json({});
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Removed"}};
  EXPECT_NE(json_error(j).find("pre_tokenizer.behavior: 'Removed'"), std::string::npos);
  j = small_json({});
  j["added_tokens"] = {{{"id", "x"}}};
  EXPECT_NE(json_error(j).find("added_tokens[0]: needs a whole-number id"), std::string::npos);
  j = small_json({});
  j["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_NE(json_error(j).find("normalizer: 'Lowercase'"), std::string::npos);
  EXPECT_NE(json_error(json::array()).find("not a JSON object"), std::string::npos);
  auto bad = Tokenizer::from_tokenizer_json("{\"model\": ", "test.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("tokenizer 'test.json': not valid JSON"), std::string::npos);
}

TEST(Tokenizer, HostileTokenizerJsonIsRefusedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto t = Tokenizer::from_tokenizer_json(deep, "deep.json");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("nested deeper than 64 levels"), std::string::npos);
  std::string wide = "{\"a\":[";
  for (int i = 0; i < 7000000; ++i) wide += "0,";
  wide += "0]}";
  t = Tokenizer::from_tokenizer_json(wide, "wide.json");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("more than 6 million values"), std::string::npos);
  json j = small_json({});
  j["model"]["vocab"][std::string(2000, 'a')] = 400;
  EXPECT_NE(json_error(j).find("bytes (limit 1024)"), std::string::npos);
}

TEST(Tokenizer, PathologicalPatternEndsInsteadOfRunningForEver) {
  // Catastrophic backtracking: PCRE2's match limit stops it; the text still encodes.
  json pre = {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"}, {"pattern", {{"Regex", "(a+)+$"}}}, {"behavior", "Isolated"}},
                {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  auto t = load_json(small_json({}, false, pre));
  const std::string text = std::string(40, 'a') + "!";
  EXPECT_EQ(t->decode(t->encode(text)), text);
}

std::string tiktoken_file(const std::vector<std::string>& extra) {
  std::string s;
  for (int b = 0; b < 256; ++b)
    s += base64_encode(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\n";
  uint32_t rank = 256;
  for (const std::string& e : extra) s += base64_encode(e) + " " + std::to_string(rank++) + "\n";
  return s;
}

TEST(Tokenizer, TiktokenMergesByTheRankOfTheConcatenation) {
  auto t = Tokenizer::from_tiktoken(tiktoken_file({"ab", "bc", "abc", " x"}),
                                    "dir/cl100k_base.tiktoken");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ((*t)->kind(), "tiktoken:cl100k_base");
  EXPECT_EQ((*t)->encode("abc"), (std::vector<uint32_t>{258}));        // whole piece is a token
  EXPECT_EQ((*t)->encode("abcb"), (std::vector<uint32_t>{258, 'b'}));  // ab, then ab+c
  EXPECT_EQ((*t)->encode("abcb x"), (std::vector<uint32_t>{258, 'b', 259}));
  EXPECT_EQ((*t)->encode("<|endoftext|>"), (std::vector<uint32_t>{100257}));
  EXPECT_EQ((*t)->decode({100257}), "<|endoftext|>");
  // Without "abc", the lower rank decides: "bc" (256) before "ab" (257).
  auto u = Tokenizer::from_tiktoken(tiktoken_file({"bc", "ab"}), "cl100k_base.tiktoken");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ((*u)->encode("abc"), (std::vector<uint32_t>{'a', 256}));
}

TEST(Tokenizer, MalformedTiktokenNamesTheLine) {
  auto err = [](const std::string& text, const std::string& name = "cl100k_base.tiktoken") {
    auto t = Tokenizer::from_tiktoken(text, name);
    EXPECT_FALSE(t);
    return t ? "" : t.error();
  };
  EXPECT_NE(err(tiktoken_file({}), "mine.tiktoken").find("must be named after its encoding"),
            std::string::npos);
  EXPECT_NE(err(tiktoken_file({}) + "YWI=\n").find("line 257: expected '<base64 token> <rank>'"),
            std::string::npos);
  EXPECT_NE(err(tiktoken_file({}) + "!!!! 300\n").find("line 257: token:"), std::string::npos);
  EXPECT_NE(err(tiktoken_file({}) + "YWI= 1e3\n").find("line 257: rank '1e3'"), std::string::npos);
  EXPECT_NE(err(tiktoken_file({}) + "YWI= 99999999\n").find("line 257: id 99999999 is over"),
            std::string::npos);
  EXPECT_NE(err(tiktoken_file({}) + "YWI= 5\n").find("line 257: id 5 is given twice"),
            std::string::npos);
  EXPECT_NE(err("YQ== 0\n").find("no token for byte 0"), std::string::npos);
}

TEST(Tokenizer, LoadReadsEitherFormatFromAFileAndSharedTokenizerLoadsOnce) {
  const std::string dir = testing::TempDir();
  const std::string jpath = dir + "/tok_small.json", tpath = dir + "/o200k_base.tiktoken";
  std::ofstream(jpath) << small_json({{"a", "b"}}).dump();
  std::ofstream(tpath) << tiktoken_file({"ab"});
  auto j = Tokenizer::load(jpath);
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ((*j)->kind(), "tokenizer.json");
  auto t = Tokenizer::load(tpath);
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ((*t)->kind(), "tiktoken:o200k_base");
  EXPECT_EQ((*t)->encode("ab"), (std::vector<uint32_t>{256}));
  auto a = shared_tokenizer(jpath), b = shared_tokenizer(jpath);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get());
  auto missing = Tokenizer::load(dir + "/nope.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace llmload
