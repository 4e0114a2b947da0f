// requests.jsonl (`--requests-jsonl FILE`): one JSON object per request, the same facts as a
// requests.csv row with the group's labels as an object and the server's figures nested:
//   {"request_id", "worker", "group", "labels": {k: v}, "prompt", "sent_unix_ns", "start_ms",
//    "queue_ms", "wait_ms", "connect_ms", "tls_ms", "ttfb_ms", "ttft_ms", "ttfo_ms", "e2e_ms",
//    "input_tokens", "output_tokens", "tokens_source", "outcome", "error_message",
//    "server": {"load_ms", "prompt_tokens", "prompt_eval_ms", "output_tokens", "eval_ms",
//               "total_ms", "cached_tokens", "prompt_tokens_per_s", "eval_tokens_per_s",
//               "wait_ms"}}
// Every key is always there: null where the value is unknown (a time never reached, a figure the
// server did not report). Times are milliseconds with microsecond digits.
#pragma once

#include <string>

#include "common/group_stats.h"
#include "common/results_csv.h"

namespace llmload {

// One line, with its "\n".
std::string requests_jsonl_line(const RequestRow& row, const Labels& labels);

}  // namespace llmload
