// BodyTemplate: a request whose body is written when it is sent, not once for the run. The run
// plan serialises the request once with sentinels where the per-request parts go (the prompt
// text, the unique-prefix tag, max_tokens), cuts it at the sentinels, and each send fills the
// holes (BodyWriter) and writes Content-Length; everything else stays the prebuilt bytes.
// This is how a synthetic or trace-replay run sends a distinct prompt on every request from
// bounded memory (docs/scenarios.md "Synthetic prompts", "Trace replay").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/distribution.h"
#include "common/expected.h"
#include "common/synthetic_text.h"
#include "common/tokenizer.h"
#include "common/trace.h"
#include "worker/http_request.h"

namespace llmload::worker {

// The sentinels a plan puts in the BodyInput (ASCII letters: JSON keeps them as they are).
inline constexpr std::string_view kTextSentinel = "LLMLOADxPROMPTxHOLExq7w";
inline constexpr std::string_view kTagSentinel = "LLMLOADxTAGxHOLExq7w";
inline constexpr int64_t kMaxTokensSentinel = 987'650'123'456'789;

// What the holes of one request hold: its key (common/synthetic_text.h), the key of its
// unique-prefix tag (the conversation's for every turn of one), and its trace row (replay).
struct BodyFill {
  uint64_t key = 0;
  uint64_t tag_key = 0;
  const TraceRow* row = nullptr;
  const Trace* trace = nullptr;  // the row's trace (hash ids, prompts)
};

// How a run writes the holes: the synthetic source's shape, or the trace's rows.
struct BodyWriter {
  // Synthetic prompts (no row): the prompt's length in tokens is drawn from input_tokens (with
  // the request's key), and the text is the shared prefix, the tag (unique_prefix), then words
  // generated from the key up to that length (at least one own word).
  Distribution input_tokens = Distribution::fixed(128);
  std::string shared_prefix;  // the same words on every prompt
  int64_t shared_prefix_tokens = 0;
  bool unique_prefix = false;
  // prompts.tokenizer: the words are `words` (each one token to `tokenizer`: single_token_words
  // in common/token_words.h), so the text and a trace row's blocks are exact in its tokens;
  // the tag's tokens are counted per request (a few dozen bytes). Null: the standard words, a
  // word counted as a token, the tag as two.
  std::shared_ptr<const Tokenizer> tokenizer;
  std::shared_ptr<const SyntheticWords> words;
  // max_tokens when the row gives none: drawn from this with the key; absent: not sent.
  std::optional<Distribution> max_tokens;
  uint64_t seed = 1;  // the run's: trace blocks are generated from (seed, hash id)

  // Appends the prompt text of `f` (JSON-safe: already escaped where it came from a trace).
  void append_text(std::string& out, const BodyFill& f) const;
  // The tokens the text of `f` has by construction: for a synthetic prompt max(drawn length,
  // shared prefix + tag + 1), for a trace row max(1, input_tokens); -1 for a row's own prompt.
  // With a tokenizer this is its true count (build_run_plan checks it on samples).
  int64_t text_tokens(const BodyFill& f) const;
  // The request's max_tokens.
  int64_t max_tokens_of(const BodyFill& f) const;
};

class BodyTemplate {
 public:
  // Cuts `built` (an HttpRequest serialised with the sentinels in its body) at the sentinels;
  // the max_tokens sentinel only with `max_tokens_hole` (a dataset prompt's own digits are never
  // taken for it). Errors when the body has none (it would send the same bytes every time).
  static Expected<BodyTemplate> make(const HttpRequest& built, bool max_tokens_hole);

  // Writes the request for `f` into `out` (its buffer reused), `scratch` holding the body.
  void write(HttpRequest& out, std::string& scratch, const BodyWriter& w, const BodyFill& f) const;

 private:
  enum class Hole : uint8_t { kText, kTag, kMaxTokens };
  std::string head_;                   // the head up to the Content-Length value
  std::vector<std::string> literals_;  // holes_.size() + 1 pieces of the body
  std::vector<Hole> holes_;
};

}  // namespace llmload::worker
