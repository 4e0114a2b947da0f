// llmload worker --connect tcp://HOST:5557 [--threads N] [--timestamps kernel|clock]
//                [--exit-after-run]: serves run after run until stopped, or (--exit-after-run, for
// a Kubernetes Job or one container per run) one coordinator's session.
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "common/exit_codes.h"
#include "coordinator/curve_keys.h"
#include "worker/control.h"

namespace llmload::cli {

namespace {

struct WorkerFlags {
  std::string connect;
  int threads = 0;
  std::string timestamps = "kernel";
  std::string id;
  std::string curve_key;
  std::string server_key;
  bool exit_after_run = false;
};

std::atomic<bool> g_stop{false};
void on_stop_signal(int) {
  g_stop = true;
}

int run_worker(const WorkerFlags& f) {
  worker::ControlOptions c;
  c.connect = f.connect;
  c.worker_id = f.id;
  if (!f.curve_key.empty() || !f.server_key.empty()) {
    if (f.curve_key.empty() || f.server_key.empty()) {
      std::fprintf(stderr, "llmload worker: --curve-key and --server-key go together\n");
      return kExitUsage;
    }
    auto keys = coord::load_curve_keypair(f.curve_key);
    if (!keys) {
      std::fprintf(stderr, "llmload worker: --curve-key: %s\n", keys.error().c_str());
      return kExitUsage;
    }
    auto server = coord::load_public_key(f.server_key);
    if (!server) {
      std::fprintf(stderr, "llmload worker: --server-key: %s\n", server.error().c_str());
      return kExitUsage;
    }
    c.curve = worker::CurveClientKeys{keys->public_key, keys->secret_key, server.value()};
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  c.stop = &g_stop;
  c.one_session = f.exit_after_run;
  worker::WorkerEngine engine(worker::WorkerOptions{f.threads, f.timestamps == "kernel"});
  std::fprintf(stderr, "llmload worker: %d event loop(s), connecting to %s\n", engine.threads(),
               f.connect.c_str());
  worker::WorkerControl wc(c, engine);
  auto r = wc.serve();
  if (!r) {
    std::fprintf(stderr, "llmload worker: %s\n", r.error().c_str());
    return kExitUsage;
  }
  // A coordinator lost mid-run leaves a run unfinished: say so, so the pod's Job can fail fast
  // rather than wait for a coordinator that is gone.
  if (f.exit_after_run && wc.runs_abandoned() > 0) return kExitIncomplete;
  return kExitOk;
}

}  // namespace

void register_worker(CLI::App& app, int& exit_code) {
  CLI::App* sub = app.add_subcommand("worker", "a load worker: serves run after run until stopped");
  auto f = std::make_shared<WorkerFlags>();
  sub->add_option("--connect", f->connect, "the coordinator, tcp://HOST:5557")->required();
  sub->add_option("--threads", f->threads, "event loops (default: cores)")
      ->check(CLI::Range(0, 4096));
  add_timestamps_flag(sub, f->timestamps);
  sub->add_option("--id", f->id, "worker id (default host:pid)");
  sub->add_option("--curve-key", f->curve_key, "this worker's CURVE key PREFIX (llmload keygen)");
  sub->add_option("--server-key", f->server_key, "the coordinator's public key file (.pub)");
  sub->add_flag("--exit-after-run", f->exit_after_run,
                "serve one coordinator, then exit: keeps connecting until one answers and exits "
                "when it ends the session (0; 5 when it was lost mid-run)");
  sub->callback([&exit_code, f] { exit_code = run_worker(*f); });
}

}  // namespace llmload::cli
