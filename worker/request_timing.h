// RequestTiming: the clock of one request, exactly as DESIGN.md "Metrics" and docs/metrics.md
// define it. The request feeds it events with their timestamps (one monotonic read per socket
// read, from the connection layer); it derives every per-request metric and records them.
// Pure logic with no I/O, so it is tested on synthetic chunk sequences.
//
//   start        the request's first byte written on an established connection (on_sent);
//   origin       what ttft, ttfo and e2e run from: the intended start in rate mode (coordinated
//                omission), the start otherwise;
//   ttfb         start → first response byte;
//   ttft         origin → first token-bearing chunk (content, reasoning or tool_call; role-only,
//                empty, usage-only and other chunks never start it);
//   ttfo         origin → first output chunk (content or tool_call; never reasoning);
//   e2e          origin → last byte of the response;
//   itl          each gap between token-bearing chunks, timed at arrival; a chunk carrying k
//                tokens adds its gap and k − 1 zero gaps;
//   tpot         (e2e − ttft) / (output_tokens − 1), decode_tps its inverse in tokens/s, both
//                only with >= 2 output tokens (ttft and e2e from the same origin, so the
//                difference is origin-free);
//   queue        rate mode: intended → start; ttft_sent / e2e_sent: start → first token / end;
//   wait         the scheduler's start of the request → start (a connection, the kernel).
// Only ok requests record latency histograms; every measured request counts in the counters.
//
// How sure the timing is (ClientTiming, docs/metrics.md "Client health"): every socket read is
// stamped once (by the kernel, or by the clock after the loop woke), so every chunk of one read
// carries the same t, and a token chunk with the previous token chunk's t is of the same read.
// A read delivering m > 1 token events makes all m of their ttft-or-gap values uncertain: the
// earlier events arrived somewhere between the previous read and the stamp (its window). Values
// are kept as measured, never spread over the window.
//
// No allocation per chunk: ITL gaps go to a buffer whose capacity is kept across requests (it
// grows only when a request is longer than any before it on this slot).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/group_stats.h"
#include "common/scenario.h"
#include "worker/chunk.h"

namespace llmload::worker {

class RequestTiming {
 public:
  RequestTiming() {
    gaps_us_.reserve(128);
    windows_us_.reserve(16);
  }

  // A new request, started by its scheduler at begun_ns (the wait runs from there to the write).
  // intended_ns: rate mode's intended start (open_loop), ignored otherwise. streamed false: a
  // non-streamed response (one JSON body): its chunk times nothing, so there is no ttft, ttfo,
  // itl, tpot or decode_tps; ttfb, e2e and the tokens (from the usage) remain.
  void begin(bool open_loop, int64_t intended_ns, int64_t begun_ns, bool streamed = true);
  // A fresh connection carried it: TCP connect and TLS handshake durations (tls 0: plain).
  void on_connected(int64_t connect_ns, int64_t tls_ns);
  // The request's bytes were written at t (again after a retry: the later write counts).
  void on_sent(int64_t t);
  // The first byte of the response arrived at t.
  void on_first_byte(int64_t t);
  // One classified chunk that arrived at t, in a read the kernel stamped (kernel) or the clock.
  void on_chunk(int64_t t, const ChunkInfo& chunk, bool kernel = false);
  // The response's last byte (or the failure) at t.
  void on_end(int64_t t);

  bool sent() const { return sent_ns_ >= 0; }
  bool got_token() const { return ttft_ns_ >= 0; }
  int64_t sent_ns() const { return sent_ns_; }
  int64_t origin_ns() const { return open_loop_ ? intended_ns_ : sent_ns_; }

  // Derived values (nullopt when not reached). Nanoseconds.
  std::optional<int64_t> connect() const { return opt(connect_ns_); }
  // Scheduler's start → first byte written: waiting for a connection (pool queue, connect,
  // TLS) or for the kernel to take the bytes. Never inside ttfb, ttft or e2e.
  std::optional<int64_t> wait() const;
  std::optional<int64_t> tls() const { return tls_ns_ > 0 ? opt(tls_ns_) : std::nullopt; }
  std::optional<int64_t> ttfb() const;
  std::optional<int64_t> ttft() const;
  std::optional<int64_t> ttfo() const;
  std::optional<int64_t> e2e() const;
  // Token-bearing chunks seen, ITL values (gaps + zero gaps) buffered.
  int64_t token_chunks() const { return token_chunks_; }
  int64_t itl_values() const { return int64_t(gaps_us_.size()) + zero_gaps_; }
  const std::vector<int32_t>& gaps_us() const { return gaps_us_; }
  int64_t zero_gaps() const { return zero_gaps_; }
  // The longest gap between token-bearing chunks (ns), for the itl SLO.
  int64_t max_gap_ns() const { return max_gap_ns_; }
  // Reads that delivered token-bearing chunks, and how many of them the kernel stamped.
  int64_t token_reads() const { return token_reads_; }
  int64_t token_reads_kernel() const { return kernel_reads_; }
  // Timing values (ttft + itl values) from reads with more than one token event.
  int64_t uncertain_values() const { return uncertain_ + (read_events_ > 1 ? read_events_ : 0); }

  // Records an ok request into `stats`: every latency metric above, output and input tokens,
  // tokens source, and goodput when every per-request SLO is met. Counts requests/ok too.
  void record_ok(GroupStats& stats, const StreamState& stream, const RequestSlo& slo) const;
  // Whether an ok request met every per-request SLO (ttft, ttfo, tpot, itl, e2e).
  bool meets_slo(const StreamState& stream, const RequestSlo& slo) const;
  // Counts the token and connection facts every measured request carries, whatever its fate
  // (connect, tls, output/input token sums). Used for failed requests.
  void record_failed_facts(GroupStats& stats, const StreamState& stream) const;
  // A request the client closed on purpose (counted by the caller): connect, tls, wait, the
  // tokens that came before the close (in none of the tokens_* source counters: a cut
  // stream has no usage yet), and the ttfb and ttft it reached (a user who gave up saw them).
  void record_cancelled(GroupStats& stats, const StreamState& stream) const;
  // Adds the request's token reads to `client`, and when `ok` (its ttft and itl values were
  // recorded) its timing values, the uncertain ones and their windows.
  void record_client(ClientTiming& client, bool ok) const;

 private:
  void clear_response();
  // A token read begins at t: closes the previous one (counting it when it was uncertain).
  void start_read(int64_t t, bool kernel);
  static std::optional<int64_t> opt(int64_t v) {
    return v >= 0 ? std::optional<int64_t>(v) : std::nullopt;
  }

  bool open_loop_ = false;
  bool streamed_ = true;
  int64_t intended_ns_ = -1;
  int64_t begun_ns_ = -1;
  int64_t connect_ns_ = -1;
  int64_t tls_ns_ = -1;
  int64_t sent_ns_ = -1;
  int64_t first_byte_ns_ = -1;
  int64_t ttft_ns_ = -1;  // absolute time of the first token-bearing chunk
  int64_t ttfo_ns_ = -1;  // absolute time of the first content chunk
  int64_t last_token_ns_ = -1;
  int64_t end_ns_ = -1;
  int64_t token_chunks_ = 0;
  int64_t zero_gaps_ = 0;
  int64_t max_gap_ns_ = 0;
  std::vector<int32_t> gaps_us_;
  int64_t token_reads_ = 0;
  int64_t kernel_reads_ = 0;
  int64_t read_events_ = 0;     // token events in the latest token read
  int64_t read_window_us_ = 0;  // the latest token read's window
  int64_t uncertain_ = 0;       // uncertain values of the token reads before the latest
  std::vector<int32_t> windows_us_;  // of the uncertain reads before the latest
};

}  // namespace llmload::worker
