// libFuzzer target: trace files (load.trace) in each format on arbitrary bytes. The first byte
// picks the format. Checks: no crash or unbounded allocation; a parsed trace keeps its promises
// (rows in time order from 0, every row's hash ids and prompt inside the trace's tables, the
// bounds of common/trace.h); an error names the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/trace.h"

using llmload::TraceFormat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const TraceFormat formats[] = {TraceFormat::kMooncake, TraceFormat::kAzure, TraceFormat::kJsonl};
  const TraceFormat f = formats[data[0] % 3];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto t = llmload::parse_trace(text, f, "fuzz.trace");
  if (!t.ok()) {
    if (t.error().rfind("fuzz.trace", 0) != 0) std::abort();
    return 0;
  }
  const llmload::Trace& tr = t.value();
  if (tr.rows.empty() || tr.rows.size() > llmload::kTraceRowsMax) std::abort();
  if (tr.rows.front().t_ns != 0 || tr.span_ns != tr.rows.back().t_ns) std::abort();
  int64_t last = 0;
  for (const llmload::TraceRow& r : tr.rows) {
    if (r.t_ns < last) std::abort();
    last = r.t_ns;
    if (r.input_tokens < 0 || r.input_tokens > llmload::kTraceTokensMax) std::abort();
    if (r.output_tokens < 0 || r.output_tokens > llmload::kTraceTokensMax) std::abort();
    if (size_t(r.hash_begin) + r.hash_count > tr.hash_ids.size()) std::abort();
    if (r.prompt >= 0 && size_t(r.prompt) >= tr.prompts_json.size()) std::abort();
    if (r.model >= 0 && size_t(r.model) >= tr.models.size()) std::abort();
  }
  if (llmload::trace_loop_gap_ns(tr) <= 0) std::abort();
  return 0;
}
