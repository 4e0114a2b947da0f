// RunPlan: everything about a run that is computed once, before load, and then shared
// read-only by every loop: each target's parsed endpoint, TLS context and adapter; the groups
// (target × model, labelled with the scenario's tags); and the full HTTP request bytes of every
// prompt (and conversation turn) for every group, so the hot path only writes prepared bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/distribution.h"
#include "common/expected.h"
#include "common/group_stats.h"
#include "common/scenario.h"
#include "worker/endpoint.h"
#include "worker/http_request.h"
#include "worker/tls_context.h"

namespace llmload::worker {

class ApiAdapter;

struct PlanTarget {
  std::string name;
  Endpoint endpoint;
  std::shared_ptr<TlsContext> tls;  // null for http://
  std::shared_ptr<const ApiAdapter> adapter;
  Timeouts timeouts;
};

// One prompt, or one turn of a conversation, as requests send it.
struct PlanItem {
  int64_t position = 0;  // position in the prompt list given to the worker
  int64_t prompt = 0;    // the prompt's index in the run's list (requests.csv `prompt`)
  int32_t turn = 0;
  bool last_turn = true;  // the conversation's last turn (or a single prompt)
};

struct PlanGroup {
  Labels labels;
  std::string key;  // group_key(labels)
  int target = 0;
  std::string model;
  double weight = 1;                  // chance of a request going to this group (sums to 1)
  std::vector<HttpRequest> requests;  // one per PlanItem
};

struct RunPlan {
  std::vector<PlanTarget> targets;
  std::vector<PlanGroup> groups;
  std::vector<PlanItem> items;
  std::vector<int64_t> conversation_start;  // item index where each prompt's items begin
  RequestSlo slo;
  bool insecure = false;

  // Picks a group by weight from a uniform draw in [0, 1).
  int pick_group(double u) const;
  std::vector<Labels> group_labels() const;
};

Expected<std::shared_ptr<const RunPlan>> build_run_plan(const Scenario& scenario,
                                                        const std::vector<ResolvedPrompt>& prompts);

}  // namespace llmload::worker
