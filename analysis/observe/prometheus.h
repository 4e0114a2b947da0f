// The Prometheus text exposition (format 0.0.4) of a run in progress: what `--prometheus ADDR`
// serves on /metrics. A pure function of the merged, cumulative per-group stats.
//
// Names (every series labelled by group: target, model and the scenario's tags):
//   llmload_ttft_seconds, llmload_itl_seconds, llmload_tpot_seconds, llmload_e2e_seconds
//       histograms (_bucket{le}, _sum, _count) with buckets suited to LLM latencies, derived
//       from the exact HdrHistograms (a bucket counts every value whose HdrHistogram bucket lies
//       at or below `le`)
//   llmload_requests_total{outcome="ok"|"failed"}, llmload_errors_total{kind},
//   llmload_output_tokens_total, llmload_input_tokens_total, llmload_retries_total,
//   llmload_dropped_total, llmload_goodput_requests_total          counters
//   llmload_in_flight_requests, llmload_workers_alive, llmload_loop_lag_seconds   gauges
#pragma once

#include <string>
#include <vector>

#include "common/group_stats.h"

namespace llmload::analysis {

struct PrometheusGauges {
  int64_t in_flight = 0;
  int64_t workers_alive = 0;
  double loop_lag_seconds = 0;
};

// Bucket upper bounds in seconds (+Inf is added) for a metric: ITL gets finer buckets.
const std::vector<double>& prometheus_buckets(Metric m);

std::string prometheus_exposition(const std::vector<GroupStats>& groups,
                                  const PrometheusGauges& gauges);

// The standard process metrics of the process serving /metrics (the names every Prometheus
// client library exports): process_resident_memory_bytes (gauge), process_cpu_seconds_total
// (counter, user + system).
std::string prometheus_process_metrics(int64_t resident_bytes, double cpu_seconds);

// A label name as Prometheus allows it ([a-zA-Z_][a-zA-Z0-9_]*, no leading "__").
std::string prometheus_label_name(const std::string& key);
// A label value escaped (\\, \", \n).
std::string prometheus_label_value(const std::string& value);

}  // namespace llmload::analysis
