// A worker's interval snapshot drawn like a real streaming run's at seconds scale, for the
// coordinator benches (bench/coordinator_scale.cpp, bench/coordinator_merge_bench.cpp). Not
// recorded from a live target: the values are drawn from the distributions below, so that the
// histograms have the spread (and so the bucket count and encoded size) a real run against a
// seconds-scale server gives.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include "common/group_stats.h"

namespace llmload {

// One interval of one worker: `groups` groups × `requests` finished requests, values drawn like a
// streaming run against a seconds-scale server (rate mode over TLS, so every fixed metric holds
// values). About 1 % of requests fail (a ttft_timeout), as a real run's tail would.
inline IntervalSnapshot make_report_sample(std::mt19937_64& rng, int groups, int requests) {
  std::lognormal_distribution<double> ttft_s(std::log(1.0), 0.5);    // median 1 s
  std::lognormal_distribution<double> itl_ms(std::log(30.0), 0.35);  // median 30 ms
  std::uniform_int_distribution<int> out_tokens(50, 500);
  std::uniform_int_distribution<int> in_tokens(100, 4000);
  std::exponential_distribution<double> queue_ms(1.0 / 20.0);  // mean 20 ms
  std::uniform_real_distribution<double> u(0.0, 1.0);
  IntervalSnapshot snap;
  for (int g = 0; g < groups; ++g) {
    GroupStats& gs = snap.group(
        {{"model", "model-" + std::to_string(g % 5)}, {"target", "target-" + std::to_string(g)}});
    for (int r = 0; r < requests; ++r) {
      const double queue_us = queue_ms(rng) * 1000.0;
      const double wait_us = 200 + u(rng) * 5000;
      if (u(rng) < 0.3) {  // a new connection for about a third of the requests
        gs.record(Metric::kConnect, int64_t(150 + u(rng) * 600));
        gs.record(Metric::kTls, int64_t(2000 + u(rng) * 4000));
      }
      gs.record(Metric::kQueue, int64_t(queue_us));
      gs.record(Metric::kWait, int64_t(wait_us));
      if (u(rng) < 0.01) {  // record_error counts the request (requests, failed, errors)
        gs.record_error(ErrorKind::kTtftTimeout, "no text within the ttft timeout");
        continue;
      }
      const double ttft_sent_us = ttft_s(rng) * 1e6;
      const double ttft_us = ttft_sent_us + queue_us;
      const int tokens = out_tokens(rng);
      double gen_us = 0;
      for (int t = 1; t < tokens; ++t) {
        const double gap = itl_ms(rng) * 1000.0;
        gs.record(Metric::kItl, int64_t(gap));
        gen_us += gap;
      }
      const double e2e_sent_us = ttft_sent_us + gen_us;
      gs.record(Metric::kTtfb, int64_t(ttft_sent_us * 0.98));
      gs.record(Metric::kTtftSent, int64_t(ttft_sent_us));
      gs.record(Metric::kTtft, int64_t(ttft_us));
      gs.record(Metric::kTtfo, int64_t(ttft_us + u(rng) * 1000));
      gs.record(Metric::kE2eSent, int64_t(e2e_sent_us));
      gs.record(Metric::kE2e, int64_t(e2e_sent_us + queue_us));
      gs.record(Metric::kTpot, int64_t(gen_us / (tokens - 1)));
      gs.record(Metric::kDecodeTps, int64_t((tokens - 1) / (gen_us / 1e6)));
      gs.record(Metric::kOutputTokens, tokens);
      const int in = in_tokens(rng);
      gs.record(Metric::kInputTokens, in);
      gs.counters.requests++;
      gs.counters.ok++;
      gs.counters.goodput += ttft_us < 2e6 ? 1 : 0;
      gs.counters.input_tokens += in;
      gs.counters.output_tokens += tokens;
      gs.counters.tokens_from_usage++;
      gs.counters.bytes_received += 400 + tokens * 180;
    }
  }
  snap.in_flight = groups * requests * 8;
  snap.cpu_busy = 0.3;
  snap.client.token_reads = 1000;
  snap.client.token_reads_kernel = 1000;
  snap.client.loop_lag_us.record(200);
  snap.peak_rss_bytes = 64 << 20;
  return snap;
}

}  // namespace llmload
