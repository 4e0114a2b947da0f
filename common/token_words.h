// Synthetic text exact in a tokenizer's tokens (prompts.tokenizer): a table of words each of
// which is exactly one token, so a text of n such words is n tokens and writing it per request
// costs no encoding (docs/scenarios.md "Tokenizer").
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "common/synthetic_text.h"
#include "common/tokenizer.h"

namespace llmload {

// 64 words (SyntheticWords::kCount) that `tok` encodes to exactly one token each, both as
// "word" (the start of a text) and as " word", and whose sequences encode to one token a word:
// the synthetic vocabulary's words first, then, if too few qualify, the tokenizer's own
// vocabulary (tokens that are a space and 3..15 ASCII lowercase letters), in id order. The
// property is checked with the real encoder on a text holding every ordered pair of the words
// and on a long generated sample. Errors (a vocabulary without 64 such words, or one that merges
// across words) name `path`. Built once per tokenizer and process (later calls share it).
Expected<std::shared_ptr<const SyntheticWords>> single_token_words(
    const std::shared_ptr<const Tokenizer>& tok, const std::string& path);

}  // namespace llmload
