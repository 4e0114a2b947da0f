// Conversation: one virtual user's (concurrency mode) or one session's (rate mode) place in a
// multi-turn conversation, as its loop keeps it between turns: which turn it is at, the group it
// sends to, the live history (history: live) with the bytes of the turn in flight built from
// it, and the connection it holds (prompts.sticky). docs/scenarios.md "conversations".
//
// A conversation ends after its last turn, when a turn fails (history: live has no reply to
// carry on with; recorded history carries on), or at the end of the run; the user's next
// request starts the next conversation. Memory: the live history is bounded by
// prompts.history_max_bytes (common/conversation.h LiveHistory), each reply by the same bound
// while it streams (Request).
#pragma once

#include <cstdint>

#include "common/conversation.h"
#include "common/expected.h"
#include "worker/connection_pool.h"
#include "worker/http_request.h"
#include "worker/run_plan.h"

namespace llmload::worker {

struct Conversation {
  int64_t item = -1;  // the plan item (turn) sent last; -1: none yet, or the conversation ended
  int group = 0;
  LiveHistory history;
  HttpRequest request;  // a live turn's bytes: they must outlive the request in flight
  ConnectionPin pin;    // sticky: the connection the conversation holds
  uint64_t tag_key = 0;  // per-request bodies: the conversation's unique-prefix tag key
};

// The request for turn `item` of a conversation whose replies so far are `history`: its body
// holds the kept turns' user texts and live replies (LiveHistory::messages).
Expected<HttpRequest> build_live_request(const RunPlan& plan, int group, int64_t item,
                                         const LiveHistory& history);

}  // namespace llmload::worker
