// Trace replay (docs/scenarios.md "Trace replay"): `load.trace` names a file of timed requests,
// and the run sends one request per row at the row's time (scaled by `speed`), with the row's
// input length (prompt synthesized to it, sharing 512-token blocks where rows share hash ids)
// and its output length as max_tokens. Three formats:
//   mooncake: JSONL {"timestamp": ms, "input_length": n, "output_length": m, "hash_ids": [...]}
//   azure:    CSV with a header naming TIMESTAMP, ContextTokens, GeneratedTokens (any order,
//             other columns ignored); TIMESTAMP "YYYY-MM-DD HH:MM:SS[.fraction]" or seconds
//   jsonl:    {"t_ms", "input_tokens", "output_tokens", "prompt"?, "model"?, "session"?}
// The file is hostile input: every row is checked (types, ranges, times never going back, the
// bounds below) and the first problem is an error naming the file and line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace llmload {

enum class TraceFormat { kMooncake, kAzure, kJsonl };
std::string_view trace_format_name(TraceFormat f);

// `load.trace` as the scenario gives it.
struct TraceSpec {
  std::string file;  // absolute path
  TraceFormat format = TraceFormat::kJsonl;
  double speed = 1;   // > 0: 2 replays twice as fast
  bool loop = false;  // after the last row, start over (until load.duration)
  bool operator==(const TraceSpec&) const = default;
};

// Bounds on a trace file (hostile input never allocates past them).
inline constexpr size_t kTraceFileBytesMax = size_t{1} << 30;
inline constexpr size_t kTraceRowsMax = 10'000'000;
inline constexpr size_t kTraceHashIdsMax = 100'000'000;  // over all rows
inline constexpr size_t kTraceRowHashIdsMax = 65'536;    // one row: 32 M tokens of blocks
// Input or output tokens of one row (as prompts.input_tokens: a body stays within ~8 MB).
inline constexpr int64_t kTraceTokensMax = 1'000'000;
inline constexpr size_t kTraceLineBytesMax = size_t{16} << 20;
inline constexpr size_t kTraceJsonDepthMax = 16;
inline constexpr size_t kTraceModelsMax = 1024;  // distinct "model" values (jsonl)

struct TraceRow {
  int64_t t_ns = 0;  // after the first row's time (the first row is at 0); never decreasing
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  uint32_t hash_begin = 0;  // the row's hash ids: Trace::hash_ids[hash_begin, +hash_count)
  uint32_t hash_count = 0;
  int32_t prompt = -1;   // index in Trace::prompts_json, or -1: synthesized
  int32_t model = -1;    // index in Trace::models, or -1: the scenario's choice
  uint64_t session = 0;  // a hash of the row's session (has_session)
  bool has_session = false;
  int64_t line = 0;  // 1-based line in the file
};

struct Trace {
  std::vector<TraceRow> rows;
  std::vector<uint64_t> hash_ids;
  std::vector<std::string> prompts_json;  // each prompt JSON-escaped, without the quotes
  std::vector<std::string> models;        // distinct, in order of appearance
  int64_t span_ns = 0;                    // the last row's t_ns
};

// Parses a trace's text; `name` (the file) prefixes every error: "name:LINE: what".
Expected<Trace> parse_trace(std::string_view text, TraceFormat format, std::string_view name);
// Reads and parses spec.file (at most kTraceFileBytesMax).
Expected<Trace> load_trace(const TraceSpec& spec);

// The time between the last row of one pass and the first of the next (loop: true): the mean
// gap between rows (1 ms for a single row), so a looped trace keeps its rate.
int64_t trace_loop_gap_ns(const Trace& t);

}  // namespace llmload
