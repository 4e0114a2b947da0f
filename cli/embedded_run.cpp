#include "cli/embedded_run.h"

#include <atomic>
#include <cstdio>
#include <thread>
#include <zmq.hpp>

#include "cli/run_gates.h"
#include "common/exit_codes.h"
#include "coordinator/progress_view.h"
#include "worker/control.h"
#include "worker/endpoint.h"

namespace llmload::cli {

int run_embedded_prepared(const RunFlags& f, PreparedRun& p, coord::RunOutcome& out,
                          bool print_summary, const std::atomic<int>* caller_signals) {
  static std::atomic<int> own_signals{0};
  if (!caller_signals) install_signal_counter(&own_signals, true);

  zmq::context_t ctx(1);
  coord::CoordinatorOptions co;
  co.bind = "inproc://llmload-run";
  co.context = &ctx;
  co.workers = f.workers;
  co.join_timeout_ns = 30'000'000'000;
  co.out_dir = p.out_dir;
  co.requests_csv = f.requests_csv;
  co.requests_jsonl = f.requests_jsonl;
  co.progress = coord::ProgressView::choose(f.json, f.quiet, stdout);
  co.command = p.command;
  co.signals = caller_signals ? caller_signals : &own_signals;
  RunGates gates(f, p.scenario, p.prompts);
  if (auto g = gates.attach(co); !g) {
    std::fprintf(stderr, "llmload run: %s\n", g.error().c_str());
    return kExitUsage;
  }
  // --insecure / tls.insecure: said before any load, on stderr (also with --quiet), and recorded
  // by the coordinator (run.insecure and a warning in summary.json).
  for (const Target& t : p.scenario.targets)
    if (t.tls.insecure)
      std::fprintf(stderr,
                   "llmload run: warning: TLS certificate verification is OFF for target %s "
                   "(--insecure): its identity is not checked\n",
                   worker::Endpoint::redact(t.url).c_str());
  coord::Coordinator coord(co);
  if (auto b = coord.bind(); !b) {
    std::fprintf(stderr, "llmload run: %s\n", b.error().c_str());
    return kExitInternal;
  }
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<worker::WorkerEngine>> engines;
  std::vector<std::thread> threads;
  for (int i = 0; i < f.workers; ++i) {
    engines.push_back(std::make_unique<worker::WorkerEngine>(
        worker::WorkerOptions{f.threads, f.timestamps == "kernel"}));
    threads.emplace_back([&, i] {
      worker::ControlOptions c;
      c.connect = co.bind;
      c.context = &ctx;
      c.worker_id = "local-" + std::to_string(i + 1);
      c.quiet = true;
      c.stop = &stop;
      c.one_session = true;
      worker::WorkerControl wc(c, *engines[i]);
      if (auto r = wc.serve(); !r) std::fprintf(stderr, "llmload run: %s\n", r.error().c_str());
    });
  }
  out = coord.run(p.scenario, p.prompts, p.run_id);
  stop = true;
  for (auto& t : threads) t.join();
  if (!out.message.empty()) std::fprintf(stderr, "llmload run: %s\n", out.message.c_str());
  int code = gates.finish(out, p.out_dir);
  if (print_summary && out.results_written && !f.json) {
    print_run_summary(out.result, p.out_dir, f.quiet ? stderr : stdout);
  }
  return code;
}

}  // namespace llmload::cli
