// A native tokenizer for the byte-level BPE family, read from a Hugging Face `tokenizer.json`
// (GPT-2, Llama 3, Qwen 2/3, Mistral Nemo: pre-tokenizer regex, byte-to-unicode map, merges,
// added tokens) or a tiktoken ranks file (`*.tiktoken`: base64 token and rank per line, as
// OpenAI's cl100k_base and o200k_base, with their published split patterns). Used to size
// prompts in true tokens and to count output tokens when a server sends no usage
// (docs/scenarios.md "Tokenizer"). Load once; encode is const and safe from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace llmload {

class BpeModel;
class PreTokenizer;
class AddedTokens;

class Tokenizer {
 public:
  // Reads `path`: a file whose first non-blank byte is '{' is a tokenizer.json, anything else
  // a tiktoken ranks file (its name must hold cl100k_base, o200k_base, p50k_base, r50k_base
  // or gpt2, which selects the split pattern and the special tokens). Errors name the file
  // and the field or line at fault; files over 64 MiB, ids over 2^21 and tokens over 1 KiB
  // are refused, so a hostile file cannot make it allocate without bound.
  static Expected<std::shared_ptr<const Tokenizer>> load(const std::string& path);
  // The same from text already read (`name` is used in errors and, for tiktoken, to pick the
  // encoding).
  static Expected<std::shared_ptr<const Tokenizer>> from_tokenizer_json(std::string_view text,
                                                                        const std::string& name);
  static Expected<std::shared_ptr<const Tokenizer>> from_tiktoken(std::string_view text,
                                                                  const std::string& name);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text` as the reference implementation gives them without a post-processor
  // (no BOS/EOS added: `add_special_tokens=false`); added/special tokens written in the text
  // are recognized. Invalid UTF-8 is read as U+FFFD per bad byte.
  std::vector<uint32_t> encode(std::string_view text) const;
  // encode(text).size(), without keeping the ids.
  size_t count(std::string_view text) const;
  // The bytes of `ids` (an unknown id decodes to nothing).
  std::string decode(const std::vector<uint32_t>& ids) const;

  // "tokenizer.json" or "tiktoken:<encoding>", for messages.
  const std::string& kind() const { return kind_; }
  // One past the largest id.
  size_t vocab_size() const;

 private:
  Tokenizer();
  template <class Sink>
  void run(std::string_view text, Sink&& sink) const;

  std::string kind_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<PreTokenizer> pre_;
  std::unique_ptr<AddedTokens> added_;
  bool whole_word_lookup_ = false;  // tiktoken, and tokenizer.json's model.ignore_merges
  friend struct TokenizerBuilder;
};

// The tokenizer at `path`, loaded once per process and shared (later calls with the same
// path return the same object; an error is returned again, not cached).
Expected<std::shared_ptr<const Tokenizer>> shared_tokenizer(const std::string& path);

}  // namespace llmload
