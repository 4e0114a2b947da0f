// Reading a tiktoken ranks file: one "<base64 token> <rank>" per line; the encoding's name
// (in the file name) gives its published split pattern and special tokens (tokenizer.h).
#include <charconv>

#include "common/base64.h"
#include "common/tokenizer.h"
#include "common/tokenizer_builder.h"

namespace llmload {

namespace {

struct Encoding {
  const char* name;
  const char* pattern;
  std::vector<std::pair<const char*, uint32_t>> specials;
};

// As tiktoken publishes them (tiktoken_ext/openai_public.py). cl100k_base's pattern is the
// original form, the same split as the later possessive rewrite.
const std::vector<Encoding>& encodings() {
  static const std::vector<Encoding> all = {
      {"cl100k_base",
       R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
       {{"<|endoftext|>", 100257},
        {"<|fim_prefix|>", 100258},
        {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260},
        {"<|endofprompt|>", 100276}}},
      {"o200k_base", kPatternO200k, {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}},
      {"p50k_base", kPatternGpt2, {{"<|endoftext|>", 50256}}},
      {"r50k_base", kPatternGpt2, {{"<|endoftext|>", 50256}}},
      {"gpt2", kPatternGpt2, {{"<|endoftext|>", 50256}}},
  };
  return all;
}

}  // namespace

Expected<std::shared_ptr<const Tokenizer>> Tokenizer::from_tiktoken(std::string_view text,
                                                                    const std::string& name) {
  const std::string where = "tokenizer '" + name + "'";
  const std::string base = name.substr(name.find_last_of('/') + 1);
  const Encoding* enc = nullptr;
  for (const Encoding& e : encodings())
    if (base.find(e.name) != std::string::npos) {
      enc = &e;
      break;
    }
  if (!enc)
    return Error{where +
                 ": a tiktoken ranks file must be named after its encoding (cl100k_base, "
                 "o200k_base, p50k_base, r50k_base or gpt2, e.g. cl100k_base.tiktoken), which "
                 "gives its split pattern; a Hugging Face tokenizer.json starts with '{'"};
  if (text.size() > kTokenizerFileMax) return Error{where + ": over the 64 MiB limit"};

  TokenizerBuilder b;
  b.set_kind(std::string("tiktoken:") + enc->name);
  b.set_whole_word_lookup(true);
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string at = where + " line " + std::to_string(line_no);
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
      return Error{at + ": expected '<base64 token> <rank>'"};
    auto bytes = base64_decode(line.substr(0, sp));
    if (!bytes) return Error{at + ": token: " + bytes.error()};
    if (bytes->empty()) return Error{at + ": token: empty"};
    const std::string_view r = line.substr(sp + 1);
    uint32_t rank = 0;
    auto [end, ec] = std::from_chars(r.data(), r.data() + r.size(), rank);
    if (ec != std::errc{} || end != r.data() + r.size())
      return Error{at + ": rank '" + std::string(r.substr(0, 32)) + "' is not a whole number"};
    const std::string err = b.model().add_token(*bytes, rank);
    if (!err.empty()) return Error{at + ": " + err};
  }
  for (const auto& [content, id] : enc->specials) {
    if (id < b.model().id_limit() && !b.model().bytes_of(id).empty()) continue;
    const std::string err = b.model().add_token(content, id, /*encodable=*/false);
    if (!err.empty()) return Error{where + ": special token " + content + ": " + err};
    b.added().add({content, id, false, false});
  }
  const std::string err = b.model().finish();
  if (!err.empty()) return Error{where + ": " + err + " (every byte must be a token)"};
  b.model().derive_merges_from_ranks();
  auto pattern = SplitPattern::compile(enc->pattern);
  if (!pattern) return Error{where + ": " + pattern.error()};
  PreTokenizer::Step step;
  step.pattern = std::make_unique<SplitPattern>(std::move(*pattern));
  b.pre().steps.push_back(std::move(step));
  return std::shared_ptr<const Tokenizer>(b.t);
}

}  // namespace llmload
