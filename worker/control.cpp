#include "worker/control.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <future>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/prompts.h"
#include "common/shared_file.h"
#include "common/wire_socket.h"

namespace llmload::worker {

namespace {
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr int kControlTickMs = 50;

enum class SessionEnd { kStopped, kCoordinatorGone, kRejected, kFatal };
}  // namespace

// One connection to a coordinator, from the first HELLO to its loss or BYE.
struct WorkerControl::Session {
  WorkerControl& wc;
  zmq::socket_t sock;
  // Handshake events of `sock` (ZMTP errors, a ZAP refusal): a CURVE key the coordinator does
  // not accept is reported at once instead of looking like silence.
  std::optional<zmq::socket_t> monitor;
  bool warned_auth = false;
  bool attached = false;
  int64_t last_hello = 0;
  int64_t last_heard = 0;
  int64_t last_ping = 0;
  int64_t ping_seq = 0;
  int64_t created = 0;
  bool warned_silent = false;
  std::string fatal;

  // RUN, decoded, its scenario read and its pre-flight run off this thread (a RUN of megabytes
  // decodes for a while on a busy machine, and this thread must keep the heartbeat going).
  struct Prepared {
    std::string error;  // RUN or its scenario unreadable ("" when fine)
    wire::Run run;
    std::shared_ptr<Scenario> scenario;
    std::shared_ptr<const std::vector<ResolvedPrompt>> prompts;
    PreflightResult verdict;
  };

  // The run in progress: pre-flight, then armed (verdict sent, waiting for GO: no load), then
  // running (GO received). Only GO starts load.
  // The engine's start (loops, buffers, threads) also runs off this thread (kStarting): on a
  // machine running hundreds of workers it takes seconds, and the heartbeat must go on.
  enum class RunState {
    kNone,
    kPreflight,
    kArmed,
    kStarting,
    kRunning
  } run_state = RunState::kNone;
  std::future<Expected<bool>> starting;
  int64_t go_received_ns = 0;
  int64_t go_start_ns = 0;
  std::optional<int64_t> stop_after_start;  // a STOP heard while starting: its grace
  std::string run_id;
  wire::Run run;
  std::shared_ptr<Scenario> scenario;
  std::shared_ptr<const std::vector<ResolvedPrompt>> prompts;
  std::future<Prepared> preflight;
  std::vector<std::string> stops_while_preparing;  // STOPs heard before RUN was decoded
  bool stop_requested = false;
  int64_t seq = 0;

  Session(WorkerControl& w, zmq::context_t& ctx) : wc(w), sock(ctx, zmq::socket_type::dealer) {
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::immediate, 1);
    sock.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wc.opt_.max_message_bytes));
    if (wc.opt_.curve) {
      sock.set(zmq::sockopt::curve_serverkey, wc.opt_.curve->server_key);
      sock.set(zmq::sockopt::curve_publickey, wc.opt_.curve->public_key);
      sock.set(zmq::sockopt::curve_secretkey, wc.opt_.curve->secret_key);
    }
    static std::atomic<int> monitors{0};
    const std::string mon_ep = "inproc://llmload-worker-monitor-" + std::to_string(::getpid()) +
                               "-" + std::to_string(monitors.fetch_add(1));
    if (zmq_socket_monitor(sock.handle(), mon_ep.c_str(),
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
      monitor.emplace(ctx, zmq::socket_type::pair);
      monitor->set(zmq::sockopt::linger, 0);
      monitor->connect(mon_ep);
    }
    sock.connect(wc.opt_.connect);
    created = mono_now_ns();
  }

  ~Session() {
    if (monitor) zmq_socket_monitor(sock.handle(), nullptr, 0);
  }

  // Reads pending monitor events; logs the first failed handshake clearly.
  void poll_monitor() {
    if (!monitor) return;
    for (int i = 0; i < 100; ++i) {
      zmq::message_t head, addr;
      auto r = monitor->recv(head, zmq::recv_flags::dontwait);
      if (!r) return;
      if (head.more()) (void)monitor->recv(addr, zmq::recv_flags::dontwait);
      if (head.size() < 6 || warned_auth) continue;
      uint16_t event = 0;
      std::memcpy(&event, head.data(), sizeof event);
      warned_auth = true;
      warned_silent = true;
      if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        log("refused by the coordinator at %s: CURVE authentication failed (this worker's public "
            "key is not on its allow-list, or --server-key is not the coordinator's key); "
            "retrying",
            wc.opt_.connect.c_str());
      else
        log("handshake with %s failed (%s): wrong --server-key, CURVE on one side only, or not "
            "an llmload coordinator; retrying",
            wc.opt_.connect.c_str(),
            event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "ZMTP protocol error" : "no detail");
    }
  }

  void log(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (!wc.opt_.log) return;
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(wc.opt_.log, "llmload worker %s: ", wc.opt_.worker_id.c_str());
    std::vfprintf(wc.opt_.log, fmt, ap);
    std::fputc('\n', wc.opt_.log);
    va_end(ap);
    std::fflush(wc.opt_.log);
  }

  // Routine progress (attached, a run starting): silent with ControlOptions::quiet.
  template <class... A>
  void note(const char* fmt, A... args) {
    if (!wc.opt_.quiet) log(fmt, args...);
  }

  bool send(const wire::Message& m) { return wire::send_message(sock, m); }

  void send_report(std::optional<WorkerReport> rep, bool final) {
    wire::Report r;
    r.run_id = run_id;
    r.seq = ++seq;
    r.final = final;
    IntervalSnapshot empty;
    r.snapshot = rep ? std::move(rep->snapshot) : empty;
    if (rep) r.requests = std::move(rep->requests);
    // A worker must not lose a REPORT to a momentarily full queue: retry briefly.
    for (int i = 0; i < 50 && !send(r); ++i) usleep(2000);
  }

  // Abandons the run in progress (coordinator gone): no new request, everything cancelled.
  void abandon() {
    if (run_state == RunState::kPreflight) {
      preflight.wait();
      run_state = RunState::kNone;
    } else if (run_state == RunState::kArmed) {
      run_state = RunState::kNone;  // never started: nothing to stop
    } else if (run_state == RunState::kStarting || run_state == RunState::kRunning) {
      if (run_state == RunState::kStarting && !starting.get()) {
        run_state = RunState::kNone;  // the start failed: nothing runs
        ++wc.runs_abandoned_;
        return;
      }
      wc.engine_.stop(0);
      wc.engine_.wait_done();
      // Best effort: a coordinator that is only slow (a starved machine) still counts what was
      // measured here, so no load this worker sent goes uncounted.
      while (auto rep = wc.engine_.next_interval(0)) send_report(std::move(rep), false);
      send_report(wc.engine_.final_snapshot(), true);
      send(wire::Done{run_id, seq, "stopped: the coordinator was silent"});
      run_state = RunState::kNone;
    } else {
      return;
    }
    ++wc.runs_abandoned_;
    log("coordinator gone: load stopped, run %s abandoned", run_id.c_str());
  }

  void finish_run(const std::string& error) {
    send(wire::Done{run_id, seq, error});
    run_state = RunState::kNone;
    ++wc.runs_done_;
  }

  void on_run(std::string body, const wire::DecodeLimits& limits) {
    if (run_state != RunState::kNone) {
      log("ignored a RUN: run %s is still going", run_id.c_str());
      return;
    }
    seq = 0;
    run_id.clear();
    stop_requested = false;
    stops_while_preparing.clear();
    run_state = RunState::kPreflight;
    LoadEngine* engine = &wc.engine_;
    preflight = std::async(std::launch::async, [engine, body = std::move(body), limits] {
      Prepared p;
      auto msg = wire::decode("RUN", body, limits);
      if (!msg) {
        p.error = msg.error();
        return p;
      }
      p.run = std::move(std::get<wire::Run>(msg.value()));
      auto sc = scenario_from_json(p.run.scenario);
      if (!sc) {
        p.error = "cannot read the scenario: " + sc.error();
        return p;
      }
      p.scenario = std::make_shared<Scenario>(std::move(sc.value()));
      // The files this worker reads from the coordinator's paths (dataset, trace, tokenizer)
      // must be the ones it checked: else the run is refused before any load.
      for (const SharedFile& f : p.run.files) {
        if (auto differs = check_shared_file(f)) {
          p.verdict.ok = false;
          p.verdict.error = *differs;
          return p;
        }
      }
      std::shared_ptr<std::vector<ResolvedPrompt>> dataset;
      if (prompts_read_on_worker(*p.scenario)) {
        // The whole dataset, once for this process (its loops share the plan built from it).
        auto loaded = dataset_prompts(*p.scenario);
        if (!loaded) {
          p.verdict.ok = false;
          p.verdict.error = "prompts: " + loaded.error();
          return p;
        }
        dataset = std::make_shared<std::vector<ResolvedPrompt>>(std::move(loaded.value()));
        p.prompts = dataset;
      } else {
        p.prompts = std::make_shared<const std::vector<ResolvedPrompt>>(std::move(p.run.prompts));
      }
      p.verdict = engine->preflight(*p.scenario);
      if (p.verdict.ok) {
        // The plan (every prompt's request bytes) now, so GO only starts the loops.
        if (auto prepared = engine->prepare(p.scenario, p.prompts); !prepared) {
          p.verdict.ok = false;
          p.verdict.error = prepared.error();
        } else if (dataset) {
          // The plan holds every entry's request bytes (and its own copy for history: live):
          // the parsed dataset goes, so the process holds it once. (The prepared plan is
          // matched to this list by address, which stays.)
          dataset->clear();
          dataset->shrink_to_fit();
          release_free_memory();
        }
      }
      return p;
    });
  }

  void poll_preflight() {
    if (run_state != RunState::kPreflight) return;
    if (preflight.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    Prepared prepared = preflight.get();
    if (!prepared.run.run_id.empty()) run_id = prepared.run.run_id;
    for (const auto& id : stops_while_preparing) stop_requested = stop_requested || id == run_id;
    stops_while_preparing.clear();
    if (prepared.run.run_id.empty()) {  // not even its id: nobody to answer
      log("ignored a RUN that cannot be read: %s", prepared.error.c_str());
      run_state = RunState::kNone;
      return;
    }
    if (!prepared.error.empty()) {
      wire::Report rep;
      rep.run_id = run_id;
      rep.preflight = wire::Preflight{false, {{"", prepared.error}}, {}};
      send(rep);
      finish_run(prepared.error);
      return;
    }
    scenario = std::move(prepared.scenario);
    prompts = std::move(prepared.prompts);
    run = std::move(prepared.run);
    const PreflightResult& pf = prepared.verdict;
    wire::Report rep;
    rep.run_id = run_id;
    rep.seq = 0;
    wire::Preflight wp;
    wp.ok = pf.ok;
    if (!pf.ok) wp.failures.push_back({"", pf.error.empty() ? "pre-flight failed" : pf.error});
    wp.warnings = pf.warnings;
    rep.preflight = wp;
    send(rep);
    if (!pf.ok) {
      // The coordinator stops everyone; nothing was started here.
      run_state = RunState::kNone;
      finish_run("");
      return;
    }
    if (stop_requested) {
      note("run %s: told to stop before the start: no load sent", run_id.c_str());
      send_report(std::nullopt, true);
      finish_run("");
      return;
    }
    run_state = RunState::kArmed;  // load waits for GO
  }

  void on_go(const wire::Go& go) {
    if (go.run_id != run_id || run_state != RunState::kArmed) {
      log("ignored GO for run %s: not waiting to start it", go.run_id.c_str());
      return;
    }
    RunSpec spec;
    spec.run_id = run_id;
    spec.worker_id = wc.opt_.worker_id;
    spec.scenario = scenario;
    spec.prompts = prompts;
    spec.share = go.share;
    spec.record_requests = run.requests_csv;
    go_received_ns = mono_now_ns();
    go_start_ns = go.start_ns;
    stop_after_start.reset();
    LoadEngine* engine = &wc.engine_;
    starting = std::async(std::launch::async, [engine, spec = std::move(spec), at = go.start_ns] {
      return engine->start(spec, at);
    });
    run_state = RunState::kStarting;
  }

  void poll_starting() {
    if (run_state != RunState::kStarting) return;
    if (starting.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    auto started = starting.get();
    if (!started) {
      send_report(std::nullopt, true);
      finish_run("cannot start: " + started.error());
      return;
    }
    run_state = RunState::kRunning;
    const int64_t now = mono_now_ns();
    if (now > go_start_ns) {
      log("run %s: load started %.0f ms after its start instant (GO came %.0f ms before it; the "
          "engine took %.0f ms to start on this machine)",
          run_id.c_str(), double(now - go_start_ns) / 1e6,
          double(go_start_ns - go_received_ns) / 1e6, double(now - go_received_ns) / 1e6);
    } else {
      note("run %s: load starts in %.0f ms", run_id.c_str(), double(go_start_ns - now) / 1e6);
    }
    if (stop_after_start) wc.engine_.stop(*stop_after_start);
  }

  void poll_engine() {
    if (run_state != RunState::kRunning) return;
    for (int i = 0; i < 16; ++i) {
      auto rep = wc.engine_.next_interval(0);
      if (!rep) break;
      send_report(std::move(rep), false);
    }
    if (wc.engine_.done()) {
      wc.engine_.wait_done();
      // Anything next_interval has not returned yet, then the final report.
      while (auto rep = wc.engine_.next_interval(0)) send_report(std::move(rep), false);
      send_report(wc.engine_.final_snapshot(), true);
      std::string warn;
      finish_run("");
    }
  }

  void on_stop(const wire::Stop& s) {
    if (run_state == RunState::kPreflight) {
      // RUN is still being read (its id not known yet) or its pre-flight runs: remember the
      // STOP; poll_preflight honours it for this run and starts nothing.
      stops_while_preparing.push_back(s.run_id);
      return;
    }
    if (s.run_id != run_id) return;
    if (run_state == RunState::kStarting) {
      stop_after_start = s.grace_ns;  // applied the moment the engine is up
    } else if (run_state == RunState::kRunning) {
      wc.engine_.stop(s.grace_ns);
    } else if (run_state == RunState::kArmed) {
      note("run %s: told to stop before the start (%s): no load sent", run_id.c_str(),
           s.reason.c_str());
      send_report(std::nullopt, true);  // never started: an empty final report
      finish_run("");
    } else {
      send(wire::Done{s.run_id, seq, ""});
    }
  }

  SessionEnd loop() {
    const wire::Hello hello{wc.opt_.protocol ? wc.opt_.protocol : wire::kProtocolVersion,
                            wc.opt_.worker_id, wc.opt_.host, wc.engine_.threads(), LLMLOAD_VERSION};
    wire::DecodeLimits limits;
    limits.max_body_bytes = wc.opt_.max_message_bytes;
    while (true) {
      if (wc.opt_.stop && wc.opt_.stop->load()) {
        abandon();
        send(wire::Bye{"worker stopping"});
        return SessionEnd::kStopped;
      }
      const int64_t now = mono_now_ns();
      if (!attached && now - last_hello >= kSec) {
        last_hello = now;
        send(hello);
        if (!warned_silent && now - created > 10 * kSec) {
          warned_silent = true;
          log("no answer from %s yet (not started, or a CURVE key it does not accept)",
              wc.opt_.connect.c_str());
        }
      }
      if (attached && now - last_ping >= wire::kHeartbeatNs) {
        last_ping = now;
        send(wire::Ping{++ping_seq, now});
      }
      zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        // Messages wake it at once; otherwise 50 ms bounds how late a PING, a finished
        // pre-flight or an interval is handled. (Each wake-up costs: at 20 ms this thread alone
        // took ~1 % of a core per worker, too much for hundreds of workers on one machine.)
        zmq::poll(items, 1, std::chrono::milliseconds(kControlTickMs));
      } catch (const zmq::error_t&) {
        return SessionEnd::kStopped;
      }
      for (int i = 0; i < 1000; ++i) {
        auto raw = wire::recv_message(sock, false);
        if (!raw) break;
        if (!raw->well_formed) continue;
        if (raw->type == wire::type_name(wire::MsgType::kRun)) {
          last_heard = mono_now_ns();
          if (attached) on_run(std::move(raw->body), limits);
          continue;
        }
        auto msg = wire::decode(raw->type, raw->body, limits);
        if (!msg) {
          log("ignored a bad message from the coordinator: %s", msg.error().c_str());
          continue;
        }
        const int64_t t = mono_now_ns();
        switch (wire::type_of(*msg)) {
          case wire::MsgType::kWelcome:
            if (!attached) note("attached to %s", wc.opt_.connect.c_str());
            attached = true;
            last_heard = t;
            last_ping = t;
            break;
          case wire::MsgType::kReject: {
            auto& r = std::get<wire::Reject>(*msg);
            log("refused by the coordinator: %s", r.reason.c_str());
            if (r.protocol != hello.protocol) {
              fatal = "refused by the coordinator: " + r.reason;
              return SessionEnd::kFatal;
            }
            return SessionEnd::kRejected;
          }
          case wire::MsgType::kPing: {
            last_heard = t;
            auto& p = std::get<wire::Ping>(*msg);
            send(wire::Pong{p.seq, p.sent_ns, mono_now_ns()});
            break;
          }
          case wire::MsgType::kPong:
            last_heard = t;
            break;
          case wire::MsgType::kRun:  // decoded off this thread (above)
            break;
          case wire::MsgType::kStop:
            last_heard = t;
            on_stop(std::get<wire::Stop>(*msg));
            break;
          case wire::MsgType::kGo:
            last_heard = t;
            on_go(std::get<wire::Go>(*msg));
            break;
          case wire::MsgType::kBye:
            abandon();
            return SessionEnd::kCoordinatorGone;
          default:
            break;
        }
      }
      // Silence is judged only with every message that arrived read (as the coordinator does):
      // a worker starved of CPU for 3 s on a crowded machine finds the PINGs queued, not gone.
      const int64_t silence_limit =
          run_state == RunState::kRunning || run_state == RunState::kStarting
              ? wire::kSilenceNs
              : wire::kIdleSilenceNs;
      if (attached && mono_now_ns() - last_heard >= silence_limit) {
        log("coordinator silent for %.0f s", double(silence_limit) / 1e9);
        abandon();
        return SessionEnd::kCoordinatorGone;
      }
      poll_monitor();
      poll_preflight();
      poll_starting();
      poll_engine();
    }
  }
};

WorkerControl::WorkerControl(ControlOptions options, LoadEngine& engine)
    : opt_(std::move(options)), engine_(engine) {
  if (opt_.host.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    opt_.host = host;
  }
  if (opt_.worker_id.empty()) opt_.worker_id = opt_.host + ":" + std::to_string(::getpid());
  // Test-only (tests/integration/distributed_refusal_test.cpp): announce another protocol
  // version in HELLO to check that a mismatch is refused on both sides. Not for users.
  if (opt_.protocol == 0) {
    if (const char* v = std::getenv("LLMLOAD_TEST_PROTOCOL_VERSION")) opt_.protocol = std::atoll(v);
  }
}

WorkerControl::~WorkerControl() = default;

Expected<bool> WorkerControl::serve() {
  std::unique_ptr<zmq::context_t> own;
  zmq::context_t* ctx = opt_.context;
  if (!ctx) {
    own = std::make_unique<zmq::context_t>(1);
    ctx = own.get();
  }
  while (!(opt_.stop && opt_.stop->load())) {
    SessionEnd end;
    std::string fatal;
    try {
      Session s(*this, *ctx);
      end = s.loop();
      fatal = s.fatal;
    } catch (const zmq::error_t& e) {
      return Error{"--connect " + opt_.connect + ": " + e.what()};
    }
    if (end == SessionEnd::kFatal) return Error{fatal};
    if (end == SessionEnd::kStopped) break;
    if (opt_.one_session) break;
    // Back to waiting for a coordinator (rejected: try again a little later).
    for (int i = 0; i < (end == SessionEnd::kRejected ? 40 : 5); ++i) {
      if (opt_.stop && opt_.stop->load()) break;
      usleep(50'000);
    }
  }
  return true;
}

}  // namespace llmload::worker
