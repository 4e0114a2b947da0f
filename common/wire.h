// The coordinator ⇄ worker wire protocol (DESIGN.md "Wire protocol").
//
// Transport: ZeroMQ ROUTER (coordinator) / DEALER (worker). Every message is exactly two frames
// after the ROUTER's routing id: a type frame (the ASCII name: "HELLO", "REPORT", ...) and a
// MessagePack body (nlohmann::json::to_msgpack) holding one map. Histograms travel inside
// REPORT as MessagePack binary (compressed V2 encoding, see GroupStats::to_wire).
//
// Conversation:
//   worker → HELLO {protocol, worker_id, host, threads, version}
//   coord  → WELCOME {protocol, coordinator}       or REJECT {protocol, reason} (then forgets it)
//   both   → PING {seq, sent_ns} every 500 ms; the peer answers PONG {seq, ping_sent_ns,
//            recv_ns}. The coordinator estimates the worker's clock offset from the PONGs.
//            Any message from a peer proves it alive; 3 s of silence means it is gone.
//   coord  → RUN {run_id, scenario, prompts, files, interval_ns, requests_csv}: `files` the
//            shared files the worker reads itself (dataset, trace, tokenizer: path, size,
//            SHA-256), checked in its pre-flight; `prompts` empty when the dataset is one of them
//   worker → REPORT {run_id, seq 0, preflight}: the pre-flight verdict; the worker then waits,
//            sending nothing to the target, until GO or STOP
//   coord  → GO {run_id, share, start_ns (worker clock)}: once every verdict it waits for is in;
//   only a
//            worker that received GO ever sends load (one told STOP, or never told GO, sends none)
//   worker → REPORT {run_id, seq 1.., snapshot, requests}: one per interval, the last one final
//   worker → DONE {run_id, reports, error}: the run is over on this worker
//   coord  → STOP {run_id, reason, grace_ns}: stop starting requests; in-flight ones get
//            grace_ns to finish (0: cancel now); the worker still sends its final REPORT + DONE
//   either → BYE {reason}: leaving (a worker stopping, a coordinator exiting)
//
// Decoding takes hostile input: the body size is checked first, then the MessagePack structure
// is walked without recursion (depth, lengths) before nlohmann parses it, then every field is
// type- and range-checked and histograms are checked against their expected settings before
// they are decoded. Errors name the message type and the field at fault.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/expected.h"
#include "common/group_stats.h"
#include "common/load_split.h"
#include "common/results_csv.h"
#include "common/scenario.h"
#include "common/shared_file.h"

namespace llmload::wire {

// Bumped on any incompatible change. A peer with another version is refused (REJECT) with a
// message naming both versions.
// 4: REPORT intervals carry client timing, and request rows sent_unix_ns and queue_us.
// 5: RUN carries `files` (the shared files each worker checks); a loop's share carries
//    first_request and GO's share run_requests (dataset entries by request number).
inline constexpr int64_t kProtocolVersion = 5;

inline constexpr int64_t kHeartbeatNs = 500'000'000;  // PING every 500 ms both ways
inline constexpr int64_t kSilenceNs = 3'000'000'000;  // a peer silent this long is gone
// A worker sending no load (idle, in pre-flight, or waiting for GO) gives its coordinator this
// long: the one reason for the 3 s rule is a load generator that must not run away, and a RUN of
// megabytes to hundreds of workers on one machine can hold the pipe (and the PINGs queued behind
// it) for seconds.
inline constexpr int64_t kIdleSilenceNs = 30'000'000'000;

enum class MsgType : uint8_t {
  kHello,
  kWelcome,
  kReject,
  kPing,
  kPong,
  kRun,
  kReport,
  kDone,
  kStop,
  kBye,
  kGo
};
std::string_view type_name(MsgType t);  // "HELLO", ...
std::optional<MsgType> parse_type(std::string_view frame);

struct Hello {
  int64_t protocol = kProtocolVersion;
  std::string worker_id;  // chosen by the worker (host:pid by default), [1, 128] bytes
  std::string host;
  int64_t threads = 1;  // event loops, [1, 4096]: the worker's weight in the load split
  std::string version;  // llmload version, informational
};
struct Welcome {
  int64_t protocol = kProtocolVersion;
  std::string coordinator;  // the coordinator's host, informational
};
struct Reject {
  int64_t protocol = kProtocolVersion;
  std::string reason;
};
struct Ping {
  int64_t seq = 0;
  int64_t sent_ns = 0;  // the sender's monotonic clock
};
struct Pong {
  int64_t seq = 0;           // the PING's seq
  int64_t ping_sent_ns = 0;  // echoed from the PING
  int64_t recv_ns = 0;       // the responder's monotonic clock when it answered
};
struct Run {
  std::string run_id;
  nlohmann::json scenario;  // scenario_to_json(kWire): secrets resolved (never written to disk)
  std::vector<ResolvedPrompt> prompts;  // empty when the worker reads the dataset (files)
  // The files the worker reads from the paths the coordinator checked (common/shared_file.h):
  // it refuses the run in its pre-flight when one is missing or differs.
  std::vector<SharedFile> files;
  int64_t interval_ns = 1'000'000'000;
  bool requests_csv = false;  // send per-request rows in REPORTs
};

struct PreflightProblem {
  std::string target;   // target name
  std::string message;  // what failed (no secrets)
  bool operator==(const PreflightProblem&) const = default;
};
struct Preflight {
  bool ok = true;
  std::vector<PreflightProblem> failures;  // non-empty iff !ok
  std::vector<std::string> warnings;       // e.g. a model the server does not list
};

struct Report {
  std::string run_id;
  int64_t seq = 0;                           // 0: pre-flight verdict; 1..: intervals
  std::optional<Preflight> preflight;        // seq 0 only
  std::optional<IntervalSnapshot> snapshot;  // seq >= 1
  bool final = false;                        // the last interval of this worker's run
  std::vector<RequestRow> requests;          // with requests_csv: rows finished this interval
};
struct Done {
  std::string run_id;
  int64_t reports = 0;  // interval REPORTs sent (the last seq)
  std::string error;    // empty: ended normally
};
struct Stop {
  std::string run_id;
  std::string reason;
  int64_t grace_ns = 0;
};
struct Go {
  std::string run_id;
  LoadShare share;       // this worker's part of the load (split over the workers that passed)
  int64_t start_ns = 0;  // the start instant on the WORKER's monotonic clock
};
struct Bye {
  std::string reason;
};

using Message = std::variant<Hello, Welcome, Reject, Ping, Pong, Run, Report, Done, Stop, Bye, Go>;
MsgType type_of(const Message& m);

struct Frames {
  std::string type;  // the type frame
  std::string body;  // MessagePack
};
Frames encode(const Message& m);

// Bounds for decoding untrusted messages.
struct DecodeLimits {
  std::size_t max_body_bytes = 16u << 20;   // RUN may need more: the worker raises it
  std::size_t max_depth = 32;               // MessagePack nesting
  std::size_t max_string_bytes = 1u << 20;  // ids, reasons, messages (prompt text: max_body)
  std::size_t max_prompts = 1'000'000;
  std::size_t max_request_rows = 1'000'000;
  WireLimits stats;  // GroupStats / IntervalSnapshot bounds
};

// Decodes one message. The error names the type and field: "REPORT: snapshot.groups[0]...".
Expected<Message> decode(std::string_view type_frame, std::string_view body,
                         const DecodeLimits& limits = {});

// Walks MessagePack bytes without recursion: exactly one well-formed value filling `bytes`,
// nesting at most max_depth, every length within the remaining bytes. Empty string: fine.
std::string check_msgpack(std::string_view bytes, std::size_t max_depth);

// RUN's MessagePack body, encoded once for every worker (the scenario and prompts can be
// megabytes). `prompts`: the prompts already in wire form (prompt_to_json each), used instead of
// run.prompts when not null, so the coordinator converts its list once, before the workers join.
std::string encode_run_body(const Run& run, nlohmann::json prompts = nullptr);

// Conversions used by RUN (exposed for tests).
nlohmann::json prompt_to_json(const ResolvedPrompt& p);
Expected<ResolvedPrompt> prompt_from_json(const nlohmann::json& j, std::size_t max_string_bytes);
nlohmann::json request_row_to_json(const RequestRow& r);
Expected<RequestRow> request_row_from_json(const nlohmann::json& j, std::size_t max_string_bytes);

}  // namespace llmload::wire
