// The loaders' access to a Tokenizer under construction (tokenizer_json.cpp,
// tokenizer_tiktoken.cpp). Internal to common/tokenizer*.cpp.
#pragma once

#include <memory>
#include <string>

#include "common/tokenizer.h"
#include "common/tokenizer_bpe.h"

namespace llmload {

struct TokenizerBuilder {
  std::shared_ptr<Tokenizer> t{new Tokenizer()};
  BpeModel& model() { return *t->model_; }
  PreTokenizer& pre() { return *t->pre_; }
  AddedTokens& added() { return *t->added_; }
  void set_kind(std::string kind) { t->kind_ = std::move(kind); }
  void set_whole_word_lookup(bool on) { t->whole_word_lookup_ = on; }
};

}  // namespace llmload
