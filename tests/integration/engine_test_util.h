// Helpers for the engine's integration tests that drive the Worker API in-process against an
// in-process mock (mock::MockServer) on loopback: a one-target scenario, a prompt list, a
// bounded run that collects every interval's counters and request rows, and reading the mock's
// truth log back. Every wait is bounded.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/load_split.h"
#include "worker/worker.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload::enginetest {

constexpr int64_t kMs = 1'000'000;

struct RunOutcome {
  GroupStats total;
  std::vector<RequestRow> rows;
  bool last_seen = false;
  int64_t start_ns = 0;  // the load's start instant (CLOCK_MONOTONIC)
  int64_t wall_ns = 0;   // start instant → done
  int64_t reports = 0;   // interval reports before the final one
  ClientTiming client;   // every interval's, merged (token reads, uncertain values, loop lag)
};

// One openai-chat target at `url`, concurrency mode, generous timeouts, grace 10 s, an inline
// prompt source (the run's prompts are the ones the test ships).
inline Scenario make_scenario(const std::string& url, int64_t concurrency, int64_t requests) {
  Scenario s;
  s.name = "engine-test";
  Target t;
  t.name = "mock";
  t.url = url;
  t.api = Api::kOpenAiChat;
  t.models = {ModelChoice{"mock", 1}};
  t.timeouts.connect_ns = 5'000 * kMs;
  t.timeouts.ttft_ns = 5'000 * kMs;
  t.timeouts.idle_ns = 5'000 * kMs;
  t.timeouts.total_ns = 20'000 * kMs;
  s.targets.push_back(t);
  s.load.mode = LoadMode::kConcurrency;
  s.load.concurrency = concurrency;
  s.load.requests = requests;
  s.load.grace_ns = 10'000 * kMs;
  s.interval_ns = 200 * kMs;
  // The tests ship their own prompts (prompts() below): an inline source, sent as given (a
  // synthetic source is generated on the worker per request).
  s.prompts.kind = PromptSourceKind::kInline;
  return s;
}

inline void add_header(Scenario& s, const std::string& name, const std::string& value) {
  s.targets[0].headers.push_back(Header{name, value, value, false});
}

// max_tokens 0: the requests carry none.
inline std::shared_ptr<const std::vector<ResolvedPrompt>> prompts(int n, int64_t max_tokens) {
  auto v = std::make_shared<std::vector<ResolvedPrompt>>();
  for (int i = 0; i < n; ++i) {
    ResolvedPrompt p;
    p.index = i;
    p.text = "tell me a story number " + std::to_string(i);
    if (max_tokens > 0) p.max_tokens = max_tokens;  // else none: the mock's own length
    v->push_back(p);
  }
  return v;
}

// Runs `s` on one in-process worker made with `options`; load starts start_in_ns (50 ms) from
// now. Bounded: at most ~max_seconds of polling, then stop(0).
inline RunOutcome run_worker(const Scenario& s, const WorkerOptions& options, bool rows = false,
                             int64_t max_tokens = 16, int max_seconds = 30,
                             int64_t start_in_ns = 50 * kMs) {
  const int threads = options.threads;
  Worker w(options);
  RunSpec spec;
  spec.run_id = "r1";
  spec.worker_id = "w1";
  spec.scenario = std::make_shared<Scenario>(s);
  spec.prompts = prompts(7, max_tokens);
  spec.share = split_load(s.load, {threads}, s.seed)[0];
  spec.record_requests = rows;
  const int64_t start = mono_now_ns() + start_in_ns;
  auto started = w.start(spec, start);
  EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error());
  RunOutcome out;
  out.start_ns = start;
  if (!started.ok()) return out;
  for (int i = 0; i < max_seconds * 10 && !w.done(); ++i) {
    if (auto r = w.next_interval(100 * kMs)) {
      ++out.reports;
      out.total.merge(r->snapshot.total());
      out.client.merge(r->snapshot.client);
      for (auto& row : r->requests) out.rows.push_back(row);
    }
  }
  if (!w.done()) {
    ADD_FAILURE() << "the run did not end within " << max_seconds << " s";
    w.stop(0);
  }
  w.wait_done();
  out.wall_ns = mono_now_ns() - start;
  WorkerReport f = w.final_snapshot();
  out.last_seen = f.last;
  out.total.merge(f.snapshot.total());
  out.client.merge(f.snapshot.client);
  for (auto& row : f.requests) out.rows.push_back(row);
  return out;
}

// run_worker() with `threads` loops and every other option at its default.
inline RunOutcome run(const Scenario& s, int threads, bool rows = false, int64_t max_tokens = 16,
                      int max_seconds = 30, int64_t start_in_ns = 50 * kMs) {
  WorkerOptions options;
  options.threads = threads;
  return run_worker(s, options, rows, max_tokens, max_seconds, start_in_ns);
}

// Sum of every error kind's counter.
inline int64_t all_errors(const Counters& c) {
  int64_t n = 0;
  for (int64_t e : c.errors) n += e;
  return n;
}

// The error kinds with a non-zero count, for failure messages ("ttft_timeout=4 reset=1").
inline std::string error_summary(const Counters& c) {
  std::string s;
  for (size_t i = 0; i < c.errors.size(); ++i)
    if (c.errors[i] != 0)
      s += std::string(name(ErrorKind(i))) + "=" + std::to_string(c.errors[i]) + " ";
  return s.empty() ? "none" : s;
}

// The mock's truth log (JSONL), one object per line.
inline std::vector<nlohmann::json> read_truth(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + "llmload-engine-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace llmload::enginetest
