#include "common/conversation.h"

#include <algorithm>

namespace llmload {

std::string turn_label_value(size_t turn) {
  if (turn + 1 >= kTurnLabelMax) return std::to_string(kTurnLabelMax) + "+";
  return std::to_string(turn + 1);
}

Labels prompt_turn_labels(const Scenario& s, const ResolvedPrompt& p, size_t turn) {
  Labels out = p.labels;
  if (!p.turns.empty() && groups_by(s, kTurnLabel))
    out[std::string(kTurnLabel)] = turn_label_value(turn);
  return out;
}

bool has_turn_label(const Scenario& s, const std::vector<ResolvedPrompt>& prompts) {
  if (s.prompts.kind == PromptSourceKind::kConversations) return true;
  return std::any_of(prompts.begin(), prompts.end(),
                     [](const ResolvedPrompt& p) { return !p.turns.empty(); });
}

void LiveHistory::reset() {
  first_ = 0;
  bytes_ = 0;
  replies_.clear();
}

void LiveHistory::add(std::string reply) {
  bytes_ += reply.size();
  replies_.push_back(std::move(reply));
  while (bytes_ > max_bytes_ && !replies_.empty()) {
    bytes_ -= replies_.front().size();
    replies_.pop_front();
    ++first_;
  }
}

std::vector<Message> LiveHistory::messages(const ResolvedPrompt& p, size_t turn) const {
  std::vector<Message> out;
  if (!p.system.empty()) out.push_back({"system", p.system});
  for (size_t k = first_; k < turn && k < p.turns.size() && k - first_ < replies_.size(); ++k) {
    out.push_back({"user", p.turns[k].user});
    out.push_back({"assistant", replies_[k - first_]});
  }
  if (turn < p.turns.size()) out.push_back({"user", p.turns[turn].user});
  return out;
}

}  // namespace llmload
