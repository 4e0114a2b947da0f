// The per-group table of the terminal summary printed at the end of every run: throughput, error
// rate, TTFT p50/p99, decode speed, cost and the performance rating (rating.h), one aligned row
// per group (and a total row when there are several), at most 78 columns so it reads in an
// 80-column terminal. Colour (ANSI) marks the rating only when asked: the caller passes true
// only for a terminal (isatty) without NO_COLOR.
#pragma once

#include <string>
#include <vector>

#include "common/rating.h"
#include "common/results.h"

namespace llmload::analysis {

// The widest line summary_group_table() writes, colour escapes not counted.
inline constexpr int kSummaryTableWidth = 78;

// The table, each line ending in '\n'; "" when the run has no groups.
// Columns: group, req/s, err%, ttft p50 and p99 (ms), tok/s (decode speed p50 per stream), cost
// (USD, "-" without a price), rating ("-" without ttft or decode speed).
std::string summary_group_table(const RunResult& r, const std::vector<RatingTier>& tiers,
                                bool colour);

// The client's lines of the terminal summary (each ending in '\n', at most 78 columns): the
// timestamp source and its share, the uncertain share of ttft/itl values and their window p99,
// loop lag p99, CPU busy, saturated or not; then, in rate mode (or whenever arrivals were
// dropped), `dropped` with its share of the arrivals.
std::string summary_client_lines(const RunResult& r);

// The findings of the terminal summary (common/findings.h), one "finding" line each with its
// advice on the next ("" when there are none).
std::string summary_finding_lines(const RunResult& r);

// The server-reported lines (each ending in '\n', at most 78 columns; "" when the server
// reported nothing): every server.* metric's p50, p90, p99, max and count, then the prefix-cache
// hit rate and the tokens_mismatch count with a sample, when there are any.
std::string summary_server_lines(const RunResult& r);

// A group's name for people: its labels' values (the model before the target), or "total".
std::string group_display_name(const GroupStats& g);

}  // namespace llmload::analysis
