// coordinator_scale: many simulated workers in one process, for bench/coordinator_scale.sh
// (issue 18 point 3). Each simulated worker is one ZeroMQ DEALER socket (CURVE on) speaking the
// real protocol to a real `llmload coordinator`: HELLO, PING/PONG every 500 ms, the pre-flight
// verdict (REPORT seq 0) after RUN, then after GO one interval REPORT per interval at the
// intended instant (GO's start + k × interval), the last one final, then DONE; it leaves at BYE.
// Every message is built and read by the project's wire code (common/wire.h, wire_socket.h).
//
// The interval histograms are built from values drawn like a real run's, at seconds scale
// (never recorded from a live target; bench/report_sample.h): per worker and interval, `--groups`
// groups (default 10), each with `--requests` finished requests (default 10) and values in every
// one of the 15 fixed metrics (a rate-mode TLS run has them all): ttft ~ lognormal around 1 s,
// e2e = ttft + tokens × itl (~6-15 s), itl ~ lognormal around 30 ms with one value per token
// gap, and so on. A pool of one distinct snapshot per simulated worker is drawn and encoded once
// (wire::encode, so every histogram is compressed once by GroupStats::to_wire) before the first
// HELLO; worker i's report k carries pool entry (i + k) mod N, so at every interval each worker
// of the process sends a different snapshot and each worker's reports differ from one interval to
// the next. Only run_id, seq, final and the interval times are patched per report, in the
// MessagePack map wire::encode made (json::from_msgpack once, json::to_msgpack per report), which
// costs ~1/100 of drawing and compressing the histograms again.
//
// Output: --sent FILE gets one JSON object: what this process sent (reports, counters and every
// metric's count summed over the reports), GO's start instant (CLOCK_MONOTONIC ns, the
// coordinator's clock on this machine) and how late this process itself was in sending each
// interval's last report (so the coordinator's own lateness can be told apart).
//
//   coordinator_scale --connect tcp://127.0.0.1:PORT --curve-key PREFIX --server-key FILE.pub
//                     --workers 250 --id-prefix p0 --seed 1 --sent p0.json
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "bench/report_sample.h"
#include "common/clock.h"
#include "common/group_stats.h"
#include "common/wire.h"
#include "common/wire_socket.h"
#include "coordinator/curve_keys.h"

namespace llmload {
namespace {

struct Options {
  std::string connect;
  std::string curve_key;   // PREFIX of this process's key pair (every simulated worker uses it)
  std::string server_key;  // the coordinator's .pub
  int workers = 250;
  std::string id_prefix = "sim";
  uint64_t seed = 1;
  int groups = 10;
  int requests = 10;  // finished requests per group per interval
  std::string sent_file;
  int64_t timeout_s = 600;  // the whole process, bounded
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "coordinator_scale: %s\n", what.c_str());
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + ": needs a value");
      return argv[++i];
    };
    if (a == "--connect")
      o.connect = val();
    else if (a == "--curve-key")
      o.curve_key = val();
    else if (a == "--server-key")
      o.server_key = val();
    else if (a == "--workers")
      o.workers = std::stoi(val());
    else if (a == "--id-prefix")
      o.id_prefix = val();
    else if (a == "--seed")
      o.seed = std::stoull(val());
    else if (a == "--groups")
      o.groups = std::stoi(val());
    else if (a == "--requests")
      o.requests = std::stoi(val());
    else if (a == "--sent")
      o.sent_file = val();
    else if (a == "--timeout")
      o.timeout_s = std::stoll(val());
    else
      die("unknown argument " + a);
  }
  if (o.connect.empty() || o.curve_key.empty() || o.server_key.empty() || o.sent_file.empty())
    die("--connect, --curve-key, --server-key and --sent are required");
  if (o.workers < 1 || o.workers > 5000) die("--workers: 1..5000");
  if (o.groups < 1 || o.requests < 1) die("--groups and --requests: at least 1");
  return o;
}

struct Sum {
  int64_t reports = 0, requests = 0, ok = 0, failed = 0, output_tokens = 0, input_tokens = 0;
  std::map<std::string, int64_t> metric_counts;
  void add(const GroupStats& total) {
    ++reports;
    requests += total.counters.requests;
    ok += total.counters.ok;
    failed += total.counters.failed;
    output_tokens += total.counters.output_tokens;
    input_tokens += total.counters.input_tokens;
    for (Metric m : kAllMetrics) metric_counts[std::string(name(m))] += total.count(m);
  }
};

struct PoolEntry {
  nlohmann::json body;  // REPORT's MessagePack map as wire::encode made it
  GroupStats total;     // what it carries
  std::size_t bytes = 0;
};

struct SimWorker {
  std::unique_ptr<zmq::socket_t> sock;
  std::string id;
  bool welcomed = false, got_run = false, done = false, bye = false;
  int64_t next_ping_ns = 0;
  int64_t ping_seq = 0;
  int64_t next_seq = 1;  // next interval report
};

int run(const Options& o) {
  auto keys = coord::load_curve_keypair(o.curve_key);
  if (!keys) die("--curve-key: " + keys.error());
  auto server = coord::load_public_key(o.server_key);
  if (!server) die("--server-key: " + server.error());

  // The pool, drawn and encoded before any worker joins.
  const int64_t gen_t0 = mono_now_ns();
  std::mt19937_64 rng(o.seed);
  std::vector<PoolEntry> pool(static_cast<std::size_t>(o.workers));
  std::size_t bytes_min = SIZE_MAX, bytes_max = 0, bytes_sum = 0;
  for (auto& e : pool) {
    wire::Report r;
    r.run_id = "placeholder";
    r.seq = 1;
    r.snapshot = make_report_sample(rng, o.groups, o.requests);
    e.total = r.snapshot->total();
    wire::Frames f = wire::encode(r);
    e.bytes = f.body.size();
    bytes_min = std::min(bytes_min, e.bytes);
    bytes_max = std::max(bytes_max, e.bytes);
    bytes_sum += e.bytes;
    e.body = nlohmann::json::from_msgpack(f.body);
  }
  for (const PoolEntry& e : pool) {  // the patched form must still be a valid REPORT
    nlohmann::json j = e.body;
    j["seq"] = 7;
    std::string b;
    nlohmann::json::to_msgpack(j, b);
    auto back = wire::decode("REPORT", b);
    if (!back) die("a patched REPORT does not decode: " + back.error());
  }
  std::fprintf(stderr,
               "coordinator_scale %s: %d workers, report bytes min %zu mean %zu max %zu; pool "
               "ready in %.1f s\n",
               o.id_prefix.c_str(), o.workers, bytes_min, bytes_sum / pool.size(), bytes_max,
               double(mono_now_ns() - gen_t0) / 1e9);

  zmq::context_t ctx(1);
  ctx.set(zmq::ctxopt::max_sockets, o.workers + 64);
  std::vector<SimWorker> ws(static_cast<std::size_t>(o.workers));
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const int64_t t0 = mono_now_ns();
  for (int i = 0; i < o.workers; ++i) {
    SimWorker& w = ws[i];
    w.id = o.id_prefix + "-" + std::to_string(i);
    w.sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    w.sock->set(zmq::sockopt::linger, 0);
    w.sock->set(zmq::sockopt::curve_serverkey, server.value());
    w.sock->set(zmq::sockopt::curve_publickey, keys->public_key);
    w.sock->set(zmq::sockopt::curve_secretkey, keys->secret_key);
    w.sock->set(zmq::sockopt::maxmsgsize, int64_t(64) << 20);
    w.sock->connect(o.connect);
    // Heartbeats spread over the 500 ms period, as unsynchronized workers' are.
    w.next_ping_ns = t0 + wire::kHeartbeatNs * i / o.workers;
    wire::send_message(*w.sock, wire::Hello{wire::kProtocolVersion, w.id, host, 1, "bench"});
  }

  std::string run_id;
  int64_t interval_ns = 0, start_ns = 0, intervals = 0;
  Sum sent;
  int64_t send_failures = 0;
  int64_t stops = 0;                       // workers told STOP before their last report
  std::vector<int64_t> last_send_late_ns;  // per interval: when its last report left, vs due
  std::vector<zmq::pollitem_t> items(ws.size());
  for (std::size_t i = 0; i < ws.size(); ++i) items[i] = {ws[i].sock->handle(), 0, ZMQ_POLLIN, 0};
  std::string buf;
  const int64_t hard_end = t0 + o.timeout_s * 1'000'000'000;
  int byes = 0;
  int64_t all_done_ns = 0;  // when every worker had sent its DONE
  int welcomed = 0;
  bool timed_out = false;
  while (byes < o.workers) {
    int64_t now = mono_now_ns();
    // Bounded: the whole process, and 150 s for the BYEs after the last DONE (a worker the
    // coordinator declared lost gets none). A coordinator behind on its queue sends them only
    // once it has read everything (at 1,000 workers on a loaded machine, 30-45 s after the last
    // DONE), and a worker stays connected, answering PINGs, until then, as a real one does;
    // 150 s is the coordinator's drain bound past its deadline (120 s) with room to spare.
    if (now > hard_end || (all_done_ns > 0 && now > all_done_ns + 150'000'000'000)) {
      std::fprintf(stderr, "coordinator_scale %s: gave up waiting: %d of %d BYEs\n",
                   o.id_prefix.c_str(), byes, o.workers);
      timed_out = true;
      break;
    }
    if (all_done_ns == 0 && start_ns > 0 &&
        std::all_of(ws.begin(), ws.end(), [](const SimWorker& w) { return w.done; }))
      all_done_ns = now;
    // Interval reports due now: all of this process's workers, in order, as fast as they go.
    if (start_ns > 0) {
      for (std::size_t i = 0; i < ws.size(); ++i) {
        SimWorker& w = ws[i];
        if (w.done || w.next_seq > intervals) continue;
        const int64_t due = start_ns + w.next_seq * interval_ns;
        if (now < due) continue;
        const int64_t k = w.next_seq++;
        PoolEntry& e = pool[(i + std::size_t(k)) % pool.size()];
        nlohmann::json& j = e.body;
        j["run_id"] = run_id;
        j["seq"] = k;
        j["final"] = k == intervals;
        j["snapshot"]["start_ns"] = due - interval_ns;
        j["snapshot"]["end_ns"] = due;
        if (k == intervals) j["snapshot"]["window_end_ns"] = due;
        buf.clear();
        nlohmann::json::to_msgpack(j, buf);
        if (k == intervals) j["snapshot"].erase("window_end_ns");
        if (!wire::send_body(*w.sock, "REPORT", buf)) ++send_failures;
        sent.add(e.total);
        if (k == intervals) {
          if (!wire::send_message(*w.sock, wire::Done{run_id, k, ""})) ++send_failures;
          w.done = true;
        }
        now = mono_now_ns();
        auto slot = std::size_t(k - 1);
        if (last_send_late_ns.size() <= slot) last_send_late_ns.resize(slot + 1, 0);
        last_send_late_ns[slot] = std::max(last_send_late_ns[slot], now - due);
      }
    }
    for (SimWorker& w : ws) {
      if (w.bye || now < w.next_ping_ns) continue;
      w.next_ping_ns += wire::kHeartbeatNs;
      wire::send_message(*w.sock, wire::Ping{++w.ping_seq, now});
    }
    // Sleep until the next report or heartbeat is due, at most 5 ms.
    int64_t wake = now + 5'000'000;
    for (std::size_t i = 0; i < ws.size(); ++i) {
      const SimWorker& w = ws[i];
      if (w.bye) continue;
      wake = std::min(wake, w.next_ping_ns);
      if (start_ns > 0 && !w.done && w.next_seq <= intervals)
        wake = std::min(wake, start_ns + w.next_seq * interval_ns);
    }
    const auto wait_ms = std::max<int64_t>(0, (wake - now + 999'999) / 1'000'000);
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_ms));
    wire::DecodeLimits limits;
    limits.max_body_bytes = 64u << 20;
    for (std::size_t i = 0; i < ws.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      SimWorker& w = ws[i];
      for (int n = 0; n < 100; ++n) {
        auto raw = wire::recv_message(*w.sock, false);
        if (!raw) break;
        if (!raw->well_formed) die(w.id + ": a malformed message from the coordinator");
        auto msg = wire::decode(raw->type, raw->body, limits);
        if (!msg) die(w.id + ": " + msg.error());
        const int64_t t = mono_now_ns();
        switch (wire::type_of(msg.value())) {
          case wire::MsgType::kWelcome:
            if (!w.welcomed && ++welcomed == o.workers)
              std::fprintf(stderr,
                           "coordinator_scale %s: all %d welcomed %.1f s after the first HELLO\n",
                           o.id_prefix.c_str(), o.workers, double(t - t0) / 1e9);
            w.welcomed = true;
            break;
          case wire::MsgType::kReject:
            die(w.id + ": refused: " + std::get<wire::Reject>(msg.value()).reason);
          case wire::MsgType::kPing: {
            auto& p = std::get<wire::Ping>(msg.value());
            wire::send_message(*w.sock, wire::Pong{p.seq, p.sent_ns, t});
            break;
          }
          case wire::MsgType::kRun: {
            auto& r = std::get<wire::Run>(msg.value());
            run_id = r.run_id;
            interval_ns = r.interval_ns;
            w.got_run = true;
            wire::Report verdict;
            verdict.run_id = r.run_id;
            verdict.seq = 0;
            verdict.preflight = wire::Preflight{};
            wire::send_message(*w.sock, verdict);
            break;
          }
          case wire::MsgType::kGo: {
            auto& g = std::get<wire::Go>(msg.value());
            if (g.share.duration_ns <= 0 || interval_ns <= 0)
              die(w.id + ": the scenario needs a duration (load.duration) and an interval");
            // Every simulated worker shares this machine's monotonic clock: one start for all.
            if (start_ns == 0) {
              start_ns = g.start_ns;
              intervals = (g.share.warmup_ns + g.share.duration_ns) / interval_ns;
            }
            break;
          }
          case wire::MsgType::kStop:
            // As a real worker: its final REPORT (nothing more measured) and DONE. Counted, and
            // the process then exits 1: a worker stopped early is a failed bench run.
            if (!w.done && start_ns > 0) {
              if (stops++ < 5)
                std::fprintf(stderr,
                             "coordinator_scale: %s: told STOP before its last report: %s\n",
                             w.id.c_str(), std::get<wire::Stop>(msg.value()).reason.c_str());
              const int64_t k = w.next_seq++;
              wire::Report fin;
              fin.run_id = run_id;
              fin.seq = k;
              fin.final = true;
              fin.snapshot = IntervalSnapshot{};
              fin.snapshot->start_ns = start_ns + (k - 1) * interval_ns;
              fin.snapshot->end_ns = std::max(t, fin.snapshot->start_ns);
              fin.snapshot->window_end_ns = fin.snapshot->end_ns;
              if (!wire::send_message(*w.sock, fin)) ++send_failures;
              if (!wire::send_message(*w.sock, wire::Done{run_id, k, ""})) ++send_failures;
              ++sent.reports;
              w.done = true;
            }
            break;
          case wire::MsgType::kBye:
            if (!w.bye) {
              w.bye = true;
              ++byes;
            }
            break;
          default:
            break;
        }
      }
    }
  }

  nlohmann::json out = {{"process", o.id_prefix},
                        {"workers", o.workers},
                        {"start_mono_ns", start_ns},
                        {"interval_ns", interval_ns},
                        {"reports", sent.reports},
                        {"requests", sent.requests},
                        {"ok", sent.ok},
                        {"failed", sent.failed},
                        {"output_tokens", sent.output_tokens},
                        {"input_tokens", sent.input_tokens},
                        {"metric_counts", sent.metric_counts},
                        {"send_failures", send_failures},
                        {"stopped_early", stops},
                        {"report_bytes_mean", bytes_sum / pool.size()},
                        {"report_bytes_min", bytes_min},
                        {"report_bytes_max", bytes_max},
                        {"last_send_late_ns", last_send_late_ns}};
  std::ofstream f(o.sent_file);
  f << out.dump() << "\n";
  if (!f) die("--sent " + o.sent_file + ": cannot write");
  return send_failures == 0 && stops == 0 && !timed_out ? 0 : 1;
}

}  // namespace
}  // namespace llmload

int main(int argc, char** argv) {
  return llmload::run(llmload::parse(argc, argv));
}
