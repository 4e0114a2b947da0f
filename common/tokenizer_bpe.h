// The pieces of Tokenizer (tokenizer.h): the BPE model over raw bytes, the pre-tokenizer (PCRE2
// split patterns) and the added-token matcher. Internal to common/tokenizer*.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/expected.h"

namespace llmload {

// Hostile-file bounds (tokenizer.h).
inline constexpr size_t kTokenizerFileMax = size_t{64} << 20;
inline constexpr uint32_t kTokenizerIdMax = uint32_t{1} << 21;
inline constexpr size_t kTokenizerTokenBytesMax = 1024;

// Byte-pair encoding over bytes: every token is a byte string with an id; a merge turns the
// adjacent pair (left id, right id) into the token of their concatenation, lowest rank first
// (leftmost first among equal ranks), as both tiktoken and Hugging Face's BPE do.
class BpeModel {
 public:
  // Adds token `bytes` with `id`; errors (returned as text, the caller names the field) on a
  // duplicate id, an id over kTokenizerIdMax or bytes over kTokenizerTokenBytesMax. A second
  // token with the same bytes keeps the first for encoding (as a map keyed by bytes does).
  // A token that is not `encodable` (an added/special token) is only decoded: BPE never
  // produces it.
  std::string add_token(std::string_view bytes, uint32_t id, bool encodable = true);
  // Registers merge (left, right) -> result with `rank`; an existing pair keeps its lower rank.
  void add_merge(uint32_t left, uint32_t right, uint32_t rank, uint32_t result);
  // tiktoken's rule: every token of two or more bytes merges from each split into two tokens,
  // at the token's own rank (its id).
  void derive_merges_from_ranks();
  // Call after the last add_token: checks every single byte has a token (else the message).
  std::string finish();

  // The id of exactly these bytes, or -1.
  int64_t find(std::string_view bytes) const;
  // Appends the ids of `piece` (a pre-tokenized piece, non-empty) to `out`.
  void encode_piece(std::string_view piece, std::vector<uint32_t>& out) const;
  // The bytes of `id` (empty if unknown).
  std::string_view bytes_of(uint32_t id) const;
  size_t id_limit() const { return spans_.size(); }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
    bool set = false;
  };
  struct MergeSlot {
    uint64_t key = ~uint64_t{0};  // left << 32 | right; all ones = empty
    uint32_t rank = 0;
    uint32_t result = 0;
  };
  const MergeSlot* find_merge(uint32_t left, uint32_t right) const;
  void grow_merges();

  std::string blob_;                                    // every token's bytes, back to back
  std::vector<Span> spans_;                             // by id
  std::vector<std::pair<uint32_t, uint32_t>> pending_;  // (id, offset) until finish() maps them
  std::unordered_map<std::string_view, uint32_t> by_bytes_;  // views into blob_
  std::unordered_map<uint32_t, std::string> late_;  // decode-only tokens added after finish()
  bool finished_ = false;
  uint32_t byte_id_[256] = {};
  std::vector<MergeSlot> merges_;  // open addressing, power-of-two size
  size_t merge_count_ = 0;
};

// One split rule of the pre-tokenizer: a PCRE2 pattern whose matches (and the text between
// them) become separate pieces, as Hugging Face's Split with behavior Isolated and tiktoken do.
class SplitPattern {
 public:
  SplitPattern() = default;
  ~SplitPattern();
  SplitPattern(SplitPattern&& o) noexcept;
  SplitPattern& operator=(SplitPattern&&) = delete;
  SplitPattern(const SplitPattern&) = delete;
  // Compiles `pattern` with UTF and Unicode properties, JIT-compiled; the error is PCRE2's
  // message and offset. `\s` is read as Unicode White_Space (with U+0085, as Rust's regex).
  static Expected<SplitPattern> compile(std::string_view pattern);
  // Calls piece(begin, end) for each piece of text[begin, end) in order (text valid UTF-8).
  template <class F>
  void split(std::string_view text, F&& piece) const;

 private:
  // The next match in text at or after `from`: [start, end), or false. A match-limit error
  // (a pathological pattern) ends splitting: the rest becomes one piece.
  bool next_match(std::string_view text, size_t from, size_t& start, size_t& end) const;
  void* code_ = nullptr;  // pcre2_code_8*
};

template <class F>
void SplitPattern::split(std::string_view text, F&& piece) const {
  size_t pos = 0;
  size_t start = 0, end = 0;
  while (pos < text.size() && next_match(text, pos, start, end)) {
    if (start > pos) piece(pos, start);
    piece(start, end);
    pos = end;
  }
  if (pos < text.size()) piece(pos, text.size());
}

// The pre-tokenizer: a chain of steps, each an optional prefix space (byte-level
// add_prefix_space: a piece not starting with ' ' gets one) then an optional split pattern;
// every piece of one step goes through the next.
class PreTokenizer {
 public:
  struct Step {
    bool add_prefix_space = false;
    std::unique_ptr<SplitPattern> pattern;  // null: the piece passes whole
  };
  std::vector<Step> steps;
  // Calls piece(string_view) for every piece of `text`.
  template <class F>
  void run(std::string_view text, F&& piece) const {
    run_from(0, text, piece);
  }

 private:
  template <class F>
  void run_from(size_t level, std::string_view text, F& piece) const;
  template <class F>
  void run_step(size_t level, std::string_view text, F& piece) const {
    const Step& step = steps[level];
    if (!step.pattern) {
      run_from(level + 1, text, piece);
      return;
    }
    step.pattern->split(
        text, [&](size_t b, size_t e) { run_from(level + 1, text.substr(b, e - b), piece); });
  }
};

template <class F>
void PreTokenizer::run_from(size_t level, std::string_view text, F& piece) const {
  if (text.empty()) return;
  if (level == steps.size()) {
    piece(text);
    return;
  }
  const Step& step = steps[level];
  if (step.add_prefix_space && text.front() != ' ') {
    std::string spaced = " ";
    spaced.append(text);
    run_step(level, spaced, piece);
    return;
  }
  run_step(level, text, piece);
}

// Added (and special) tokens, matched in the raw text before pre-tokenization: leftmost, then
// longest; lstrip/rstrip take the whitespace beside a match into it.
class AddedTokens {
 public:
  struct Token {
    std::string content;
    uint32_t id = 0;
    bool lstrip = false;
    bool rstrip = false;
  };
  void add(Token t);
  bool empty() const { return tokens_.empty(); }
  // Calls text_piece(string_view) for the text between matches and token(id) for each match.
  template <class T, class K>
  void split(std::string_view text, T&& text_piece, K&& token) const;

 private:
  // The first match at or after `from`: [start, end) and the id, or false.
  bool find(std::string_view text, size_t from, size_t& start, size_t& end, uint32_t& id) const;
  std::vector<Token> tokens_;
  std::vector<std::vector<uint32_t>> by_first_byte_ = std::vector<std::vector<uint32_t>>(256);
};

template <class T, class K>
void AddedTokens::split(std::string_view text, T&& text_piece, K&& token) const {
  size_t pos = 0, start = 0, end = 0;
  uint32_t id = 0;
  while (pos < text.size() && find(text, pos, start, end, id)) {
    if (start > pos) text_piece(text.substr(pos, start - pos));
    token(id);
    pos = end;
  }
  if (pos < text.size()) text_piece(text.substr(pos));
}

// GPT-2's byte-to-unicode map: the code point standing for each byte in byte-level vocabularies.
uint32_t byte_level_char(uint8_t byte);
// Decodes a byte-level token string to its bytes; false when it holds a character outside
// the map.
bool byte_level_decode(std::string_view token, std::string& bytes);
// Copies `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD; returns
// false (and leaves `out` untouched) when `text` is valid.
bool utf8_sanitize(std::string_view text, std::string& out);

// GPT-2's split pattern (ByteLevel use_regex; tiktoken's gpt2, r50k, p50k) and o200k_base's,
// as tiktoken publishes it (cl100k_base's is in tokenizer_tiktoken.cpp).
inline constexpr const char* kPatternGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr const char* kPatternO200k =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

}  // namespace llmload
