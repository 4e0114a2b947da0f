// Multi-turn conversations beyond their recorded replies (docs/scenarios.md "conversations"):
// the `turn` label that groups results per turn, and the bounded live history that
// `history: live` sends (the replies the target really gave, the oldest turns leaving the
// history when the kept replies outgrow prompts.history_max_bytes).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "common/scenario.h"

namespace llmload {

// The label naming a conversation's turn ("1" for the first). Turns from kTurnLabelMax on share
// one value ("16+"), so a long conversation cannot make unboundedly many groups.
inline constexpr std::string_view kTurnLabel = "turn";
inline constexpr size_t kTurnLabelMax = 16;
// "1", "2", ..., "15", then "16+" (turn is 0-based).
std::string turn_label_value(size_t turn);
// The labels a request for turn `turn` of `p` records under: the prompt's (already projected)
// row labels, plus `turn` when `p` is a conversation and group_by keeps `turn` (the turn label
// wins over a row label of the same name).
Labels prompt_turn_labels(const Scenario& s, const ResolvedPrompt& p, size_t turn);
// Whether the run's results carry a `turn` label (some prompt is a conversation).
bool has_turn_label(const Scenario& s, const std::vector<ResolvedPrompt>& prompts);

// The replies one conversation has had so far (history: live), bounded: the kept replies hold
// at most `max_bytes` together. A reply longer than the bound was already cut to it while it
// streamed (Request); adding a reply that takes the total over the bound drops the oldest turns
// (their user text and reply) from the history until it fits again, as a chat client with a
// context window does. Each turn's own user text is always sent.
class LiveHistory {
 public:
  explicit LiveHistory(size_t max_bytes = 0) : max_bytes_(max_bytes) {}
  // A new conversation: no reply yet.
  void reset();
  // The reply of the next turn (turns are added in order, from turn 0).
  void add(std::string reply);
  // Turns whose reply was given (kept or dropped).
  size_t turns() const { return first_ + replies_.size(); }
  // The first turn still in the history (turns before it were dropped by the bound).
  size_t first_kept() const { return first_; }
  size_t bytes() const { return bytes_; }
  size_t max_bytes() const { return max_bytes_; }
  // The messages for turn `turn` of `p` (turn <= turns()): its system message, then for each
  // kept earlier turn the user text and the live reply, then this turn's user text.
  std::vector<Message> messages(const ResolvedPrompt& p, size_t turn) const;

 private:
  size_t max_bytes_;
  size_t first_ = 0;
  size_t bytes_ = 0;
  std::deque<std::string> replies_;
};

}  // namespace llmload
