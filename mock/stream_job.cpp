#include "mock/stream_job.h"

#include <algorithm>

#include "common/clock.h"
#include "mock/connection.h"
#include "mock/http_head.h"
#include "mock/mock_loop.h"
#include "mock/stream_format.h"

namespace llmload::mock {

namespace {
bool is_mid_stream(Fault f) {
  switch (f) {
    case Fault::kReset:
    case Fault::kStallMid:
    case Fault::kMalformed:
    case Fault::kErrorEvent:
    case Fault::kHugeLine:
    case Fault::kTruncated:
      return true;
    default:
      return false;
  }
}
}  // namespace

const StreamFormat& StreamJob::format() const {
  return StreamFormat::for_api(gen_.api);
}

void StreamJob::begin(Generation gen, TruthRecord truth) {
  gen_ = std::move(gen);
  truth_ = std::move(truth);
  truth_.api = api_name(gen_.api);
  truth_.stream = gen_.stream;
  truth_.fault = fault_name(gen_.fault);
  truth_.prompt_tokens = gen_.prompt_tokens;
  headers_sent_ = fault_done_ = false;
  sent_ = 0;
  drip_.clear();
  drip_pos_ = 0;
  phase_ = Phase::kQueued;  // not idle from here on
  LoopCounters::bump(loop_.counters().streams);
  LoopCounters::bump(loop_.counters().prompt_tokens, uint64_t(std::max(0, gen_.prompt_tokens)));
  if (gen_.fault != Fault::kNone) LoopCounters::bump(loop_.counters().faults);

  switch (gen_.fault) {
    case Fault::kHttp429:
      return send_error(429, "mock fault: rate limited", "fault");
    case Fault::kHttp500:
      return send_error(500, "mock fault: internal server error", "fault");
    case Fault::kHttp503:
      return send_error(503, "mock fault: service unavailable", "fault");
    default:
      break;
  }
  int64_t now = mono_now_ns();
  CapacityGate& gate = loop_.capacity();
  if (gate.try_acquire(this)) {
    loop_.publish_capacity();
    return start(now);
  }
  const MockOptions& o = loop_.options();
  if (o.over_capacity == OverCapacity::kQueue && gate.queued() < o.max_queue) {
    gate.enqueue(this);
    loop_.publish_capacity();
    truth_.queued = true;
    // Headers go out as soon as the request is read, even while it waits for a slot.
    if (gen_.stream && gen_.fault != Fault::kSlowHeaders && gen_.fault != Fault::kDrip)
      send_headers(now);
    return;
  }
  LoopCounters::bump(loop_.counters().refused);
  if (o.over_capacity == OverCapacity::kReject429)
    send_error(429, "mock: over capacity, retry later", "refused");
  else
    send_error(503, "mock: over capacity", "refused");
}

void StreamJob::send_error(int status, const char* message, const char* outcome) {
  OutBuffer& out = loop_.out();
  out.clear();
  OutBuffer body(256);
  format().error_body(status, message, body);
  std::string extra;
  if (status == 429)
    extra = "Retry-After: " + std::to_string(loop_.options().retry_after_s) + "\r\n";
  append_head(out, status, "application/json", int64_t(body.size()), conn_.keep_alive(), truth_.id,
              extra);
  out.append(body);
  truth_.status = status;
  const int64_t t = mono_now_ns();  // taken just before the write: the peer cannot see it earlier
  if (!conn_.send(out)) return;
  truth_.headers_ns = truth_.last_byte_ns = t;
  complete(outcome, true);
}

void StreamJob::on_slot(int64_t now) {
  start(now);
}

void StreamJob::start(int64_t now) {
  truth_.started_ns = now;
  truth_.status = 200;
  // --contention-*: every stream generating beyond the knee when this one starts slows each of
  // its tokens (fixed for the response, so its timings stay exact in the truth log).
  const MockOptions& o = loop_.options();
  if (o.contention_itl_ns > 0) {
    const int over = loop_.capacity().active() - o.contention_streams;
    if (over > 0) gen_.itl_ns += int64_t(over) * o.contention_itl_ns;
  }
  const int64_t first = now + gen_.first_token_delay_ns();
  if (gen_.fault == Fault::kDrip) {
    build_drip();
    phase_ = Phase::kDrip;
    loop_.schedule(this, now);
    return;
  }
  if (gen_.fault == Fault::kSlowHeaders) {
    phase_ = Phase::kSlowHeaders;
    loop_.schedule(this, now + loop_.options().faults.delay_ns);
    return;
  }
  if (!gen_.stream) {
    phase_ = gen_.fault == Fault::kStallHeaders ? Phase::kStalled : Phase::kNonStream;
    if (phase_ == Phase::kNonStream)
      loop_.schedule(this, first + int64_t(std::max(gen_.total_tokens() - 1, 0)) * gen_.itl_ns);
    return;
  }
  if (!headers_sent_) {
    send_headers(now);
    if (phase_ == Phase::kIdle) return;
  }
  if (gen_.fault == Fault::kStallHeaders) {
    phase_ = Phase::kStalled;
    return;
  }
  phase_ = Phase::kWaitFirst;
  first_due_ns_ = first;
  loop_.schedule(this, first);
}

void StreamJob::send_headers(int64_t) {
  OutBuffer& out = loop_.out();
  out.clear();
  append_head(out, 200, format().content_type(true), -1, conn_.keep_alive(), truth_.id);
  ChunkSink sink(out, loop_.scratch());
  format().preamble(gen_, sink);
  headers_sent_ = true;
  const int64_t t = mono_now_ns();
  if (!conn_.send(out)) return;
  truth_.headers_ns = t;
}

int StreamJob::chunk_count() const {
  int k = gen_.tokens_per_chunk;
  int boundary = sent_ < gen_.reasoning_tokens ? gen_.reasoning_tokens : gen_.total_tokens();
  return std::min(k, boundary - sent_);
}

void StreamJob::on_due(int64_t now) {
  int64_t late = now - due_ns;
  loop_.lateness().record(late);
  if (late > truth_.late_max_ns) truth_.late_max_ns = late;
  switch (phase_) {
    case Phase::kSlowHeaders: {
      if (gen_.stream) {
        send_headers(now);
        if (phase_ == Phase::kIdle) return;
      }
      phase_ = gen_.stream ? Phase::kWaitFirst : Phase::kNonStream;
      first_due_ns_ = now + gen_.first_token_delay_ns();
      int64_t due = first_due_ns_;
      if (!gen_.stream) due += int64_t(std::max(gen_.total_tokens() - 1, 0)) * gen_.itl_ns;
      loop_.schedule(this, due);
      return;
    }
    case Phase::kWaitFirst:
    case Phase::kStreaming:
      return emit(now);
    case Phase::kNonStream: {
      OutBuffer& out = loop_.out();
      OutBuffer body(1024);
      format().body(gen_, body);
      out.clear();
      append_head(out, 200, format().content_type(false), int64_t(body.size()), conn_.keep_alive(),
                  truth_.id);
      out.append(body);
      const int64_t t = mono_now_ns();
      if (!conn_.send(out)) return;
      truth_.headers_ns = truth_.first_content_ns = truth_.last_byte_ns = t;
      truth_.tokens = gen_.total_tokens();
      truth_.reasoning_tokens = gen_.reasoning_tokens;
      LoopCounters::bump(loop_.counters().tokens, uint64_t(gen_.total_tokens()));
      return complete("ok", true);
    }
    case Phase::kDrip: {
      const int64_t t = mono_now_ns();
      if (!conn_.send(drip_.data() + drip_pos_, 1)) return;
      if (drip_pos_ == 0) truth_.headers_ns = t;
      if (++drip_pos_ >= drip_.size()) {
        truth_.first_content_ns = truth_.first_content_ns ? truth_.first_content_ns : t;
        truth_.last_byte_ns = t;
        truth_.tokens = gen_.total_tokens();
        return complete("fault", true);
      }
      loop_.schedule(this, due_ns + loop_.options().faults.drip_ns);
      return;
    }
    default:
      return;
  }
}

bool StreamJob::mid_stream_fault(int64_t) {
  if (fault_done_ || !is_mid_stream(gen_.fault) || sent_ < gen_.fault_after) return false;
  fault_done_ = true;
  OutBuffer& out = loop_.out();
  ChunkSink sink(out, loop_.scratch());
  switch (gen_.fault) {
    case Fault::kReset:
      complete("fault", false);
      conn_.close(Connection::CloseMode::kReset, "fault");
      return true;
    case Fault::kTruncated:
      complete("fault", false);
      conn_.close(Connection::CloseMode::kGraceful, "fault");
      return true;
    case Fault::kStallMid:
      phase_ = Phase::kStalled;
      return true;
    case Fault::kErrorEvent:
      out.clear();
      format().error_event(gen_, sink);
      sink.end_body();
      truth_.last_byte_ns = mono_now_ns();
      if (!conn_.send(out)) return true;
      complete("fault", true);
      return true;
    case Fault::kMalformed:
      format().malformed(gen_, sent_, sink);  // goes out ahead of the next chunk
      return false;
    case Fault::kHugeLine:
      format().huge_line(gen_, loop_.options().faults.huge_line_bytes, sink);
      return false;
    default:
      return false;
  }
}

void StreamJob::emit(int64_t now) {
  OutBuffer& out = loop_.out();
  out.clear();
  if (mid_stream_fault(now)) return;
  ChunkSink sink(out, loop_.scratch());
  int count = chunk_count();
  format().tokens(gen_, sent_, count, sink);
  sent_ += count;
  // Events already due go out in the same write, as a server that fell behind (or streams with
  // no gap) writes them: a late loop catches up, and itl 0 costs one send per kCatchUpEvents
  // events, not one per event. Bounded, so one stream cannot hold the loop; a mid-stream fault
  // still goes out after exactly its event.
  constexpr int kCatchUpEvents = 64;
  for (int k = 1; k < kCatchUpEvents && sent_ < gen_.total_tokens() &&
                  first_due_ns_ + int64_t(sent_) * gen_.itl_ns <= now &&
                  !(is_mid_stream(gen_.fault) && !fault_done_ && sent_ >= gen_.fault_after);
       ++k) {
    const int more = chunk_count();
    format().tokens(gen_, sent_, more, sink);
    sent_ += more;
    count += more;
  }
  bool last = sent_ >= gen_.total_tokens();
  if (last) {
    format().finish(gen_, sink);
    sink.end_body();
  }
  phase_ = Phase::kStreaming;
  const int64_t t = mono_now_ns();
  if (!conn_.send(out)) return;
  if (!truth_.first_content_ns) truth_.first_content_ns = t;
  truth_.tokens = sent_;
  truth_.reasoning_tokens = std::min(sent_, gen_.reasoning_tokens);
  LoopCounters::bump(loop_.counters().tokens, uint64_t(count));
  if (last) {
    truth_.last_byte_ns = t;
    return complete("ok", true);
  }
  // Token i is due at first_due + i * itl; a chunk goes when its first token is due.
  loop_.schedule(this, first_due_ns_ + int64_t(sent_) * gen_.itl_ns);
}

void StreamJob::build_drip() {
  OutBuffer& out = loop_.out();
  out.clear();
  if (gen_.stream) {
    append_head(out, 200, format().content_type(true), -1, conn_.keep_alive(), truth_.id);
    ChunkSink sink(out, loop_.scratch());
    format().preamble(gen_, sink);
    for (int i = 0; i < gen_.total_tokens();) {
      sent_ = i;
      int c = chunk_count();
      format().tokens(gen_, i, c, sink);
      i += c;
    }
    format().finish(gen_, sink);
    sink.end_body();
  } else {
    OutBuffer body(1024);
    format().body(gen_, body);
    append_head(out, 200, format().content_type(false), int64_t(body.size()), conn_.keep_alive(),
                truth_.id);
    out.append(body);
  }
  sent_ = 0;
  drip_.assign(out.data(), out.size());
}

void StreamJob::release_slot() {
  loop_.unschedule(this);
  CapacityGate::Waiter* next = loop_.capacity().leave(this);
  loop_.publish_capacity();
  if (next) static_cast<StreamJob*>(next)->on_slot(mono_now_ns());
}

void StreamJob::complete(const char* outcome, bool keep) {
  truth_.outcome = outcome;
  if (truth_.with_text) {
    // The content words as sent (reasoning tokens come first and are not the answer).
    for (int i = gen_.reasoning_tokens; i < truth_.tokens; ++i) truth_.text.append(gen_.word(i));
  }
  phase_ = Phase::kIdle;
  release_slot();
  if (TruthLog* log = loop_.truth()) log->push(std::move(truth_));
  if (keep) conn_.response_done();  // may start the next request on this same job: last
}

void StreamJob::abort(const char* outcome) {
  if (phase_ == Phase::kIdle) return;
  truth_.closed_ns = mono_now_ns();
  complete(outcome, false);
}

}  // namespace llmload::mock
