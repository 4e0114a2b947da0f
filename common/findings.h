// Findings: what a finished run's numbers say, in plain words (summary.json `findings`, the
// terminal, summary.md, the report). A small set of rules over a RunResult; each that fires adds
// {rule, severity, message, evidence, advice}, evidence holding the numbers that triggered it.
//
//   client_saturated  the load generator was the bottleneck (run.client.saturated)
//   rate_limited      the server answered 429 (and from which request rate, when intervals show it)
//   errors_dominated  one error kind is most of the failures
//   tokens_counted    the server sent no usage: output tokens were counted by the scenario's
//                     tokenizer over the streamed text, or from chunks (the message says which)
//   warmup_short      the first interval's TTFT p50 is far above the rest's (a cold server)
//   dropped_arrivals  rate mode started fewer requests than asked (max_in_flight reached)
//   server_queueing   TTFT p99 > 3× p50 while requests waited before the server's work
//                     (server.wait_ms) or the target's queue (/metrics) rose: at capacity
//   tokens_mismatch   the server's output-token counts differ from ours
//   prefix_cache_hits prompts meant to be unique were served from the prefix cache (> 1 %)
//
// Rules read only the result (and its intervals when present): `llmload merge` recomputes them
// on the merged result; a summary read back keeps the findings it was written with.
#pragma once

#include <string>
#include <vector>

#include "common/results.h"

namespace llmload {

// Every rule that fires, in the order of the list above. Empty on a clean run.
std::vector<Finding> find_findings(const RunResult& r);

}  // namespace llmload
