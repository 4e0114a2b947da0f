// Assertion expressions (DESIGN.md "SLOs and assertions"): parsed and checked here; the gates
// evaluate them against a merged result.
//
// Grammar (whitespace between tokens is free):
//   expr      := [ group ':' ] variable op number [ unit ] [ 'abort_on_fail' ]
//   group     := key '=' value            e.g. model=llama-3-8b   (key, value: [A-Za-z0-9_.:/@-]+,
//                                          value may be quoted with "..." or '...')
//   variable  := metric '.' stat          e.g. ttft.p99, server.prompt_eval.p50
//              | total                    requests ok failed error_rate rate_limited
//                                          requests_per_s output_tokens_per_s goodput_per_s
//                                          goodput_ratio retries input_tokens output_tokens
//                                          cost_usd dropped dropped_ratio
//              | client                   client.saturated (0 or 1), client.loop_lag (a time:
//                                          the run's loop lag p99), client.cpu_busy,
//                                          client.timing_uncertain_share (shares)
//   metric    := ttft ttfo ttfb itl tpot e2e connect tls queue ttft_sent e2e_sent decode_tps
//                output_tokens input_tokens | server.<name>
//   stat      := count min mean stddev p50 p90 p95 p99 p999 max
//   op        := < <= > >= == !=
//   unit      := ns us ms s m h   (time metrics only; the value is converted to milliseconds)
//              | %                (ratios and shares: error_rate, goodput_ratio, dropped_ratio,
//                                  client.cpu_busy, client.timing_uncertain_share; the value
//                                  becomes a fraction)
// A time metric's statistic and client.loop_lag need a time unit (a bare number is ambiguous);
// `count` is a plain number. client.* describe the whole run: no group selector. Every error
// names the column (1-based) at fault.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload {

enum class SloOp { kLt, kLe, kGt, kGe, kEq, kNe };

// What the value is compared against, so the evaluator knows where to look.
enum class SloVarKind {
  kMetricStat,  // summary.metrics.<metric>.<stat> (times in ms)
  kTotal,       // a totals variable (requests, error_rate, ...)
  kClient,      // summary.json run.client (client.saturated, client.loop_lag in ms, ...)
};

struct SloGroupSelector {
  std::string key;    // a group label: target, model or a tag name
  std::string value;  // the label's value
};

struct SloAssertion {
  std::string text;                       // the expression as written (trimmed)
  std::optional<SloGroupSelector> group;  // absent: the run's totals / merged metrics
  SloVarKind kind = SloVarKind::kTotal;
  // kMetricStat: the metric name ("ttft", "server.eval"); kTotal: the total; kClient: the
  // variable ("client.loop_lag").
  std::string metric;
  std::string stat;    // kMetricStat: "p99", "mean", ...; kTotal: empty
  SloOp op = SloOp::kLt;
  double value = 0;             // in the variable's unit: ms for times, a fraction for `%`
  std::string unit_as_written;  // "ms", "s", "%", or empty
  bool abort_on_fail = false;   // stop the run (exit 4) as soon as it fails

  // "ttft.p99" or "error_rate".
  std::string variable() const { return stat.empty() ? metric : metric + "." + stat; }
  // True when `observed` satisfies the assertion (observed in the variable's unit).
  bool holds(double observed) const;
};

// Parses one expression. Errors read "column N: <what> in '<expr>'".
Expected<SloAssertion> parse_slo_expr(std::string_view text);

std::string_view slo_op_text(SloOp op);
// True for the time metrics whose statistics are in milliseconds.
bool slo_is_time_metric(std::string_view metric);
// True when the assertion's value is a time in ms / a fraction (written with % if at all).
bool slo_is_time(const SloAssertion& a);
bool slo_is_share(const SloAssertion& a);

}  // namespace llmload
