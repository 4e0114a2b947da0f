// RunPlan: everything about a run that is computed once, before load, and then shared
// read-only by every loop: each target's parsed endpoint, TLS context and adapter; the groups
// (target × model: what a request is sent as); the result groups they record into (labels:
// tags, target and model as group_by keeps them, and the prompt's row labels); and the full HTTP
// request bytes of every prompt (and conversation turn) for every group, so the hot path only
// writes prepared bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/distribution.h"
#include "common/expected.h"
#include "common/group_stats.h"
#include "common/prompts.h"
#include "common/scenario.h"
#include "common/tokenizer.h"
#include "worker/api_adapter.h"
#include "worker/body_template.h"
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
  // Responses arrive as a stream (output.stream and the API's framing): ttft and itl are
  // measured. false: one JSON body (ttfb and e2e only; the total timeout is the deadline).
  bool streamed = true;
};

// One prompt, or one turn of a conversation, as requests send it.
struct PlanItem {
  int64_t position = 0;  // position in the prompt list given to the worker
  int64_t prompt = 0;    // the prompt's index in the run's list (requests.csv `prompt`)
  int32_t turn = 0;
  bool last_turn = true;  // the conversation's last turn (or a single prompt)
  int32_t label_set = 0;  // index of the prompt's row labels among the run's distinct sets
};

// A target × model: where a request goes and the bytes it sends.
struct PlanGroup {
  int target = 0;
  std::string model;
  double weight = 1;                  // chance of a request going to this group (sums to 1)
  std::vector<HttpRequest> requests;  // one per PlanItem
  std::vector<BodyTemplate> templates;  // one per PlanItem when RunPlan::per_request
  std::vector<int> record;            // result group, by PlanItem::label_set
  // What every request of the group shares, kept for history: live, whose later turns are
  // built as they come (worker/conversation.h): the body fields (no prompt), headers and path.
  BodyInput body;
  std::vector<HttpHeader> headers;
  std::string path;
};

// A result group: what the recorder's group ids index.
struct RecordGroup {
  Labels labels;
  std::string key;  // group_key(labels)
};

struct RunPlan {
  std::vector<PlanTarget> targets;
  std::vector<PlanGroup> groups;
  std::vector<RecordGroup> record_groups;
  std::vector<PlanItem> items;
  std::vector<int64_t> conversation_start;  // item index where each prompt's items begin
  RequestSlo slo;
  Cancel cancel;  // scenario `cancel:` (share 0: none)
  bool insecure = false;
  // Conversations (docs/scenarios.md "conversations"). history: live keeps the prompts, since
  // turn k's body holds the replies to turns before it, known only as the run goes.
  bool live_history = false;
  int64_t history_max_bytes = 0;
  // A conversation's turns stay on one connection.
  bool sticky = false;
  std::vector<ResolvedPrompt> live_prompts;  // history: live only; by PlanItem::position
  // Bodies written per send (worker/body_template.h), so that no two requests share a
  // cacheable prefix however long the run: synthetic prompts (one item, generated per request),
  // trace replay (one item, each row's prompt), and unique_prefix (each item, the tag per
  // request or conversation). Then every group has one template per item.
  bool per_request = false;
  bool synthetic = false;  // one item whose text is generated per request (synthetic, trace)
  BodyWriter writer;
  std::shared_ptr<const Trace> trace;  // trace replay: the rows (read from load.trace.file)
  TraceSpec trace_spec;                // ... and how to replay them
  // Trace replay: for each of the trace's models (Trace::models), the groups sending it.
  std::vector<std::vector<int>> model_groups;
  // A dataset read on the worker (prompts_read_on_worker): the prompts are its entries in file
  // order, and a request takes its entry by its run-wide number (dataset_entry()), so every
  // entry is reachable and the first `entries` numbers (shuffle, sequential) are all distinct.
  bool dataset = false;
  Sampling sampling = Sampling::kRandom;
  uint64_t seed = 1;  // the scenario's: the shuffle's and the random draw's key

  // The first item (the prompt, or a conversation's first turn) request number `number` sends.
  int64_t dataset_item(int64_t number) const {
    const int64_t entries = int64_t(conversation_start.size());
    return conversation_start[size_t(dataset_entry(sampling, entries, number, seed))];
  }

  // Picks a group by weight from a uniform draw in [0, 1).
  int pick_group(double u) const;
  // The result group a request of plan group `group` sending item `item` records into.
  int record_group(int group, int64_t item) const {
    return groups[size_t(group)].record[size_t(items[size_t(item)].label_set)];
  }
  // The labels of every result group, by id (the Recorder's groups).
  std::vector<Labels> group_labels() const;
  std::shared_ptr<const Tokenizer> tokenizer;  // prompts.tokenizer, loaded once per process
};

Expected<std::shared_ptr<const RunPlan>> build_run_plan(const Scenario& scenario,
                                                        const std::vector<ResolvedPrompt>& prompts);

}  // namespace llmload::worker
