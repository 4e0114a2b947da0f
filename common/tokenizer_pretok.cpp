// Split patterns on PCRE2 (UTF, Unicode properties, JIT): the pre-tokenizer's regexes
// (tokenizer_bpe.h). PCRE2 gives the Unicode classes and the look-ahead these patterns need.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "common/tokenizer_bpe.h"

namespace llmload {

namespace {

// A pattern's \s is Unicode White_Space in the Rust engines the reference tokenizers use
// (Oniguruma, fancy-regex), which holds U+0085 (NEL); PCRE2's \s leaves NEL out. Rewrite \s
// and \S so both agree: outside a class `\s` -> `[\s\x{85}]`, `\S` -> `[^\s\x{85}]`; inside
// a class `\s` -> `\s\x{85}` (a negated class with \S is left alone: no pattern we know has one).
std::string with_unicode_space(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char d = p[i + 1];
      if (d == 's')
        out += in_class ? "\\s\\x{85}" : "[\\s\\x{85}]";
      else if (d == 'S' && !in_class)
        out += "[^\\s\\x{85}]";
      else {
        out += c;
        out += d;
      }
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      // POSIX class [:name:] inside a class: copy through its closing ':]'.
      const size_t close = p.find(":]", i + 2);
      if (close != std::string_view::npos) {
        out.append(p.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

// Per-thread match state: match data for one pair of offsets and a JIT stack, shared by
// every pattern the thread runs (a pattern object is shared across threads).
struct MatchState {
  pcre2_match_data* data = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* context = nullptr;
  MatchState() {
    data = pcre2_match_data_create(1, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    context = pcre2_match_context_create(nullptr);
    if (context) {
      if (stack) pcre2_jit_stack_assign(context, nullptr, stack);
      // A pathological pattern from a hostile file stops here instead of running for ever.
      pcre2_set_match_limit(context, 10'000'000);
      pcre2_set_depth_limit(context, 100'000);
    }
  }
  ~MatchState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
};
MatchState& match_state() {
  thread_local MatchState s;
  return s;
}

}  // namespace

SplitPattern::~SplitPattern() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

SplitPattern::SplitPattern(SplitPattern&& o) noexcept : code_(o.code_) {
  o.code_ = nullptr;
}

Expected<SplitPattern> SplitPattern::compile(std::string_view pattern) {
  if (pattern.size() > 64 * 1024) return Error{"pattern over 64 KiB"};
  const std::string p = with_unicode_space(pattern);
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return Error{"pattern does not compile (PCRE2: " + std::string(reinterpret_cast<char*>(msg)) +
                 " at offset " + std::to_string(offset) + ")"};
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // without JIT (unsupported CPU) it still works
  SplitPattern sp;
  sp.code_ = code;
  return sp;
}

bool SplitPattern::next_match(std::string_view text, size_t from, size_t& start,
                              size_t& end) const {
  MatchState& st = match_state();
  if (!st.data) return false;
  auto* code = static_cast<pcre2_code*>(code_);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t at = from;
  while (at < text.size()) {
    // The text is valid UTF-8 (Tokenizer sanitizes it): skip PCRE2's check of the whole
    // subject on every call.
    const int rc =
        pcre2_match(code, subject, text.size(), at, PCRE2_NO_UTF_CHECK, st.data, st.context);
    if (rc < 0) return false;  // no match, or a limit hit: the rest is one piece
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    if (ov[1] > ov[0]) {
      start = ov[0];
      end = ov[1];
      return true;
    }
    // An empty match splits nothing: look again one character further on.
    at = ov[0] + 1;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  }
  return false;
}

}  // namespace llmload
