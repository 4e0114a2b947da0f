// Request: one request's lifecycle on a loop. Takes a connection from the target's pool (a
// warm keep-alive one, a fresh one, or after waiting for a connect slot), writes the prepared
// bytes, feeds body bytes through the StreamDecoder, times everything with RequestTiming, and
// ends in exactly one outcome: ok or one ErrorKind.
//
// Deadlines: ONE timer per request (its connection's arm/disarm): from the write, the ttft
// deadline (or the total one if sooner); after the first token, the idle deadline re-armed per
// body read (a store, no syscall) capped by the total deadline. The pool's connect timeout
// covers connecting. A stale keep-alive connection is retried once by the pool: counted as a
// retry, not an error.
//
// Outcomes: HTTP 429 → http_429, other 4xx → http_4xx, 5xx → http_5xx (the body is read to the
// end so the connection stays reusable, its start kept as the error sample); a non-2xx, non-
// error status → protocol; an error chunk → server_error; a malformed chunk or an event over its
// limit → protocol; a body that ends before the stream's terminator → truncated; connection
// failures with the connection layer's kind; cut off by the grace → cancelled. A request the
// scenario's `cancel:` picked is closed by the client when its close comes due (the same one
// timer: the sooner of it and the deadline) and counts as client_cancelled, not as an error.
//
// Request objects are slots reused by the loop: no allocation per request or per chunk once
// warm (except requests.csv rows, when asked).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/connection_pool.h"
#include "worker/http_connection.h"
#include "worker/output_text.h"
#include "worker/recorder.h"
#include "worker/request_timing.h"
#include "worker/run_plan.h"
#include "worker/scheduler.h"
#include "worker/stream_decoder.h"

namespace llmload::worker {

class Request;

// The loop, as a request sees it.
class RequestOwner {
 public:
  virtual ~RequestOwner() = default;
  // The request has ended and been recorded; the slot may be reused after this returns.
  virtual void on_request_done(Request& request) = 0;
};

struct RequestContext {
  const RunPlan* plan = nullptr;
  std::vector<ConnectionPool*> pools;  // per target
  Recorder* recorder = nullptr;
  RequestOwner* owner = nullptr;
  std::string worker_id;
  int64_t window_start_ns = 0;  // requests.csv start_ms origin
  size_t max_event_bytes = size_t(1) << 20;
  // The output text kept per request for the tokenizer (plan->tokenizer set), at most this.
  size_t max_output_text_bytes = OutputText::kDefaultCap;
};

class Request final : public HttpListener, private StreamDecoder::Sink {
 public:
  explicit Request(const RequestContext& ctx);
  ~Request() override;

  // Starts the request for `ticket` on group `group`, item `item` (indexes into the plan).
  // Conversations (worker/conversation.h): `request` replaces the plan's bytes for the item (a
  // live turn's, kept alive by the caller); `pin` keeps it on the pinned connection (sticky);
  // reply_cap > 0 keeps the answer's text, at most reply_cap bytes (history: live).
  // cancel_after_ns > 0: the client closes it that long after its write (scenario `cancel:`)
  // unless it ended before; it then counts as client_cancelled, neither ok nor failed.
  // When the plan writes bodies per request (RunPlan::per_request), `fill` says what goes in
  // the template's holes and `prompt` is the requests.csv `prompt` value (else the item's).
  struct StartOptions {
    const BodyFill* fill = nullptr;
    int64_t prompt = -1;
    const HttpRequest* request = nullptr;
    ConnectionPin* pin = nullptr;
    size_t reply_cap = 0;
    int64_t cancel_after_ns = 0;
  };
  void start(const StartTicket& ticket, int group, int64_t item, const StartOptions& o);
  void start(const StartTicket& ticket, int group, int64_t item) {
    start(ticket, group, item, StartOptions{});
  }
  // Ends it now as cancelled (grace over, abort): the connection is closed.
  void cancel(int64_t t);

  bool active() const { return active_; }
  const StartTicket& ticket() const { return ticket_; }
  int group() const { return group_; }
  int64_t item() const { return item_; }
  // Outcome of the last finished request (nullopt: ok).
  const std::optional<ErrorKind>& outcome() const { return outcome_; }
  // The answer text kept (start's reply_cap): content chunks' text decoded, cut at reply_cap
  // bytes on a UTF-8 boundary. The owner may take it in on_request_done.
  std::string& reply() { return reply_; }

  // Intrusive list of active requests (the loop's).
  Request* next_active = nullptr;
  Request* prev_active = nullptr;

 private:
  // HttpListener
  void on_connected(int64_t t, int64_t connect_ns, int64_t tls_ns) override;
  void on_request_sent(int64_t t, HttpConnection& conn) override;
  void on_request_write_queued(int64_t t, HttpConnection& conn) override;
  void on_response_headers(int64_t t, int64_t first_byte_ns, const ResponseHead& head) override;
  void on_body(int64_t t, const char* data, size_t len) override;
  void on_complete(int64_t t) override;
  void on_error(int64_t t, const NetError& error) override;
  void on_retry(int64_t t) override;
  // StreamDecoder::Sink
  bool on_chunk(const ChunkInfo& chunk) override;

  void rearm(int64_t t);
  // conn.arm(deadline, kind), or the client's own close when that comes first.
  void arm(HttpConnection& conn, int64_t deadline_ns, ErrorKind kind);
  // Ends the request: records it (when measured), then tells the owner.
  void finish(int64_t t, std::optional<ErrorKind> error, std::string_view message);
  void fail_now(int64_t t, ErrorKind kind, std::string_view message);

  const RequestContext& ctx_;
  std::vector<std::unique_ptr<StreamDecoder>> decoders_;  // per target
  StreamDecoder* decoder_ = nullptr;
  const PlanTarget* target_ = nullptr;
  RequestTiming timing_;
  StartTicket ticket_;
  int group_ = 0;
  int64_t item_ = 0;
  bool active_ = false;
  int status_ = 0;
  std::optional<ErrorKind> http_error_;
  std::optional<ErrorKind> outcome_;
  std::optional<ErrorKind> chunk_error_;  // set by on_chunk to stop decoding
  std::string error_body_;                // first bytes of an error response (the sample)
  std::string request_id_;
  int64_t now_ = 0;  // timestamp of the body read being decoded
  bool now_kernel_ = false;  // ... and whether the kernel stamped it
  int64_t retries_ = 0;
  int64_t bytes_ = 0;
  size_t reply_cap_ = 0;  // 0: keep no reply
  std::string reply_;
  OutputText output_text_;         // for plan->tokenizer: output_tokens counted at the end
  int64_t cancel_after_ns_ = 0;    // scenario `cancel:` draw for this request; 0: not picked
  int64_t cancel_at_ns_ = 0;       // when the close is due (set at the write); 0: none
  bool client_cancelled_ = false;  // the close came due: finish() records client_cancelled
  int64_t prompt_ = -1;      // requests.csv `prompt` when set by start()
  HttpRequest written_;      // the request written per send (buffer reused)
  std::string body_scratch_;
};

}  // namespace llmload::worker
