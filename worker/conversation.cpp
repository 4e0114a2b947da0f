#include "worker/conversation.h"

namespace llmload::worker {

Expected<HttpRequest> build_live_request(const RunPlan& plan, int group, int64_t item,
                                         const LiveHistory& history) {
  const PlanItem& it = plan.items[size_t(item)];
  if (size_t(it.position) >= plan.live_prompts.size()) return Error{"no live prompt for item"};
  const ResolvedPrompt& p = plan.live_prompts[size_t(it.position)];
  const PlanGroup& g = plan.groups[size_t(group)];
  const PlanTarget& t = plan.targets[size_t(g.target)];
  BodyInput in = g.body;
  in.max_tokens = p.max_tokens;
  for (Message& m : history.messages(p, size_t(it.turn)))
    in.messages.emplace_back(std::move(m.role), std::move(m.content));
  auto body = build_request_body(*t.adapter, in);
  if (!body)
    return Error{"target " + t.name + ", prompt " + std::to_string(p.index) + ": " + body.error()};
  return HttpRequest::build("POST", t.endpoint, g.path, g.headers, body.value());
}

}  // namespace llmload::worker
