// A small tokenizer.json for tests of prompts exact in a tokenizer's tokens (prompts.tokenizer):
// byte-level, GPT-2's split regex, and whole pieces looked up (model.ignore_merges), so each of
// the given words is one token with and without a leading space, and every other byte is a
// token of its own (the unique_prefix tag, digits and punctuation count in bytes).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/synthetic_text.h"
#include "common/tokenizer_bpe.h"

namespace llmload_test {

// GPT-2's byte-to-unicode map applied to `bytes`.
inline std::string byte_level(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    const uint32_t cp = llmload::byte_level_char(b);
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// Writes the tokenizer to `path` with `words` as one-token words; returns `path`.
inline std::string write_word_tokenizer(const std::string& path,
                                        const std::vector<std::string>& words) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level(std::string(1, static_cast<char>(b)))] = b;
  int next = 256;
  for (const std::string& w : words) {
    for (const std::string& form : {w, " " + w})
      if (!vocab.contains(byte_level(form))) vocab[byte_level(form)] = next++;
  }
  const nlohmann::json j = {
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", nlohmann::json::array()},
        {"ignore_merges", true}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"added_tokens", nlohmann::json::array()}};
  // Written beside and renamed into place: ctest runs a test file's tests as parallel
  // processes that write the same path, and a reader must never see a half-written file.
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  std::ofstream(tmp) << j.dump();
  std::rename(tmp.c_str(), path.c_str());
  return path;
}

// The synthetic vocabulary but its last `drop` words (so the rest must come from the
// tokenizer's own vocabulary), and `extra` more words of its own.
inline std::vector<std::string> word_tokenizer_words(size_t drop = 8, size_t extra = 24) {
  std::vector<std::string> out;
  const auto list = llmload::synthetic_word_list();
  for (size_t i = 0; i + drop < list.size(); ++i) out.emplace_back(list[i]);
  for (size_t i = 0; i < extra; ++i) {
    // "zaa", "zab", ...: lowercase words no other list holds.
    out.push_back(std::string("z") + char('a' + i / 26) + char('a' + i % 26));
  }
  return out;
}

}  // namespace llmload_test
