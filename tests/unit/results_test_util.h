// A realistic RunResult for the results tests (writers, reader, round trips).
#pragma once

#include <random>
#include <string>

#include "common/results.h"

namespace llmload::testing_util {

inline void record_requests(GroupStats& g, uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> latency(11.0, 0.8);
  for (int i = 0; i < n; ++i) {
    int64_t ttft = 1 + int64_t(latency(rng));
    if (rng() % 8 == 0) {
      g.record_error(i % 2 ? ErrorKind::kHttp429 : ErrorKind::kIdleTimeout,
                     "sample, \"quoted\" #" + std::to_string(i));
      continue;
    }
    g.counters.requests++;
    g.counters.ok++;
    int64_t tokens = 2 + rng() % 400;
    g.counters.output_tokens += tokens;
    g.counters.input_tokens += 100;
    g.counters.tokens_from_usage++;
    if (ttft < 200'000) g.counters.goodput++;
    g.record(Metric::kTtft, ttft);
    g.record(Metric::kTtfb, ttft / 2);
    g.record(Metric::kE2e, ttft + tokens * 1000);
    g.record(Metric::kTpot, 1000 + rng() % 200);
    g.record(Metric::kItl, 1000 + rng() % 500, tokens - 1);
    g.record(Metric::kOutputTokens, tokens);
    g.record(Metric::kInputTokens, 100);
    g.record(Metric::kDecodeTps, 900 + rng() % 100);
    g.record_server("server.prompt_eval_ms", 5000 + rng() % 1000);
  }
  g.counters.retries += 2;
  g.counters.bytes_received += 1000 * n;
}

inline RunResult sample_result() {
  RunResult r;
  r.run.id = "20261123-185250-abcd";
  r.run.status = RunStatus::kCompleted;
  r.run.exit_code = 3;
  r.run.started_at = format_iso8601_utc(1'795'460'370'123'000'000);
  r.run.duration_s = 12.5;
  r.run.version = "0.1.0";
  r.run.command = "llmload run s.yaml --header 'Authorization: <redacted>'";
  r.run.scenario = nlohmann::json{{"name", "smoke"}, {"load", {{"concurrency", 8}}}};
  r.run.seed = 42;
  r.run.host = "box";
  r.run.insecure = true;
  r.run.warnings = {"TLS verification is off (--insecure)"};
  r.run.client = ClientHealth{};
  r.run.client.loop_lag_ms_p99 = 1.25;
  r.run.client.cpu_busy = 0.4;
  ClientTiming& t = r.run.client.timing;
  t.token_reads = 900;
  t.token_reads_kernel = 600;
  t.timing_values = 1200;
  t.timing_uncertain = 30;
  for (int i = 0; i < 15; ++i) t.uncertain_window_us.record(2'000 + 100 * i);
  for (int i = 0; i < 100; ++i) t.loop_lag_us.record(i < 99 ? 200 : 1'250);

  GroupResult a, b;
  a.stats.labels = {{"model", "llama-3-8b"}, {"target", "http://127.0.0.1:8080"}};
  b.stats.labels = {{"model", "qwen,2"}, {"target", "http://127.0.0.1:8080"}};
  record_requests(a.stats, 11, 400);
  record_requests(b.stats, 12, 250);
  r.groups = {a, b};
  recompute_total(r);
  apply_prices(r, {{"llama-3-8b", ModelPrice{0.5, 1.5}}});

  WorkerInfo w;
  w.id = "w1";
  w.host = "box";
  w.threads = 2;
  w.totals = r.total.counters;
  r.run.workers = {w, WorkerInfo{"w2", "other", 4, WorkerStatus::kLost, Counters{}, {}}};

  r.assertions = {{"ttft.p99 < 2s", 0.55, true},
                  {"error_rate < 1%", 0.12, false},
                  {"model=x: ttft.p99 < 1s", std::nullopt, false}};
  return r;
}

// sample_result() with requests the client closed on purpose (scenario `cancel:`) in every
// group: 7 in the first, 5 in the second, so requests = ok + failed + client_cancelled.
inline RunResult sample_result_with_cancels() {
  RunResult r = sample_result();
  for (size_t i = 0; i < r.groups.size(); ++i)
    for (int k = 0; k < (i == 0 ? 7 : 5); ++k) r.groups[i].stats.record_client_cancelled();
  recompute_total(r);
  apply_prices(r, {{"llama-3-8b", ModelPrice{0.5, 1.5}}});
  r.run.workers[0].totals = r.total.counters;
  return r;
}

}  // namespace llmload::testing_util
