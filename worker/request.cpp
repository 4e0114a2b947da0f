#include "worker/request.h"

#include <algorithm>
#include <utility>

#include "common/clock.h"
#include "worker/json_scan.h"
#include "worker/server_metrics.h"

namespace llmload::worker {

namespace {
constexpr size_t kErrorBodyBytes = 200;

ErrorKind status_kind(int status) {
  if (status == 429) return ErrorKind::kHttp429;
  if (status >= 400 && status < 500) return ErrorKind::kHttp4xx;
  if (status >= 500 && status < 600) return ErrorKind::kHttp5xx;
  return ErrorKind::kProtocol;
}
}  // namespace

Request::Request(const RequestContext& ctx) : ctx_(ctx), output_text_(ctx.max_output_text_bytes) {
  for (const PlanTarget& t : ctx.plan->targets) {
    decoders_.push_back(
        std::make_unique<StreamDecoder>(*t.adapter, t.streamed, ctx.max_event_bytes));
  }
  error_body_.reserve(kErrorBodyBytes);
  request_id_.reserve(64);
}

Request::~Request() = default;

void Request::start(const StartTicket& ticket, int group, int64_t item, const StartOptions& o) {
  ticket_ = ticket;
  prompt_ = o.prompt;
  group_ = group;
  item_ = item;
  const PlanGroup& g = ctx_.plan->groups[size_t(group)];
  target_ = &ctx_.plan->targets[size_t(g.target)];
  decoder_ = decoders_[size_t(g.target)].get();
  decoder_->reset();
  timing_.begin(ticket.open_loop, ticket.intended_ns, mono_now_ns(), target_->streamed);
  cancel_after_ns_ = o.cancel_after_ns;
  cancel_at_ns_ = 0;
  status_ = 0;
  http_error_.reset();
  outcome_.reset();
  chunk_error_.reset();
  error_body_.clear();
  request_id_.clear();
  retries_ = 0;
  bytes_ = 0;
  reply_cap_ = o.reply_cap;
  reply_.clear();
  output_text_.begin(ctx_.plan->tokenizer.get());
  active_ = true;
  const HttpRequest* bytes = o.request;
  if (bytes == nullptr && o.fill != nullptr && !g.templates.empty()) {
    g.templates[size_t(item)].write(written_, body_scratch_, ctx_.plan->writer, *o.fill);
    bytes = &written_;
  }
  ctx_.pools[size_t(g.target)]->submit(bytes ? *bytes : g.requests[size_t(item)], this, o.pin);
}

void Request::cancel(int64_t t) {
  if (!active_) return;
  const PlanGroup& g = ctx_.plan->groups[size_t(group_)];
  ctx_.pools[size_t(g.target)]->cancel(this);
  timing_.on_end(t);
  finish(t, ErrorKind::kCancelled, "cut off at the end of the run (grace period over)");
}

void Request::on_connected(int64_t, int64_t connect_ns, int64_t tls_ns) {
  timing_.on_connected(connect_ns, tls_ns);
}

void Request::arm(HttpConnection& conn, int64_t deadline_ns, ErrorKind kind) {
  // A picked request's close shares the one timer: the sooner of the two. Its kind,
  // kCancelled, never comes from a connection otherwise (see on_error).
  if (cancel_at_ns_ != 0 && cancel_at_ns_ <= deadline_ns) {
    conn.arm(cancel_at_ns_, ErrorKind::kCancelled);
  } else {
    conn.arm(deadline_ns, kind);
  }
}

void Request::on_request_sent(int64_t t, HttpConnection& conn) {
  timing_.on_sent(t);
  output_text_.restart();
  // The close is due `after` from the (latest) write.
  if (cancel_after_ns_ > 0) cancel_at_ns_ = t + cancel_after_ns_;
  const Timeouts& to = target_->timeouts;
  // A non-streamed response has no first token: only the total deadline applies.
  if (target_->streamed && to.ttft_ns <= to.total_ns) {
    arm(conn, t + to.ttft_ns, ErrorKind::kTtftTimeout);
  } else {
    arm(conn, t + to.total_ns, ErrorKind::kTotalTimeout);
  }
}

void Request::on_request_write_queued(int64_t t, HttpConnection& conn) {
  // Not started yet; a write that never drains must still end: the ttft deadline from now.
  const Timeouts& to = target_->timeouts;
  conn.arm(t + std::min(to.ttft_ns, to.total_ns),
           to.ttft_ns <= to.total_ns ? ErrorKind::kTtftTimeout : ErrorKind::kTotalTimeout);
}

void Request::rearm(int64_t t) {
  HttpConnection* conn = connection();
  if (conn == nullptr || !timing_.got_token()) return;
  const Timeouts& to = target_->timeouts;
  const int64_t idle = t + to.idle_ns;
  const int64_t total = timing_.sent_ns() + to.total_ns;
  if (idle < total) {
    arm(*conn, idle, ErrorKind::kIdleTimeout);
  } else {
    arm(*conn, total, ErrorKind::kTotalTimeout);
  }
}

void Request::on_response_headers(int64_t, int64_t first_byte_ns, const ResponseHead& head) {
  timing_.on_first_byte(first_byte_ns);
  status_ = head.status;
  if (!head.request_id.empty()) request_id_.assign(head.request_id);
  if (head.status < 200 || head.status >= 300) http_error_ = status_kind(head.status);
}

void Request::on_body(int64_t t, const char* data, size_t len) {
  bytes_ += int64_t(len);
  if (http_error_) {
    const size_t room = kErrorBodyBytes - std::min(kErrorBodyBytes, error_body_.size());
    error_body_.append(data, std::min(room, len));
    return;
  }
  now_ = t;
  now_kernel_ = connection() != nullptr && connection()->read_kernel_stamped();
  const StreamDecoder::Status st = decoder_->feed(data, len, *this);
  switch (st) {
    case StreamDecoder::Status::kOk:
      rearm(t);
      return;
    case StreamDecoder::Status::kStopped:
      if (chunk_error_) {
        fail_now(t, *chunk_error_, error_body_);
      }
      return;
    case StreamDecoder::Status::kTooLarge:
    case StreamDecoder::Status::kMalformed:
      fail_now(t, ErrorKind::kProtocol, decoder_->error());
      return;
  }
}

bool Request::on_chunk(const ChunkInfo& chunk) {
  timing_.on_chunk(now_, chunk, now_kernel_);
  output_text_.on_chunk(chunk, decoder_->state());
  if (request_id_.empty() && !chunk.id.empty()) request_id_.assign(chunk.id.substr(0, 256));
  if (reply_cap_ > 0 && chunk.kind == ChunkKind::content && reply_.size() < reply_cap_) {
    // history: live only: the text appended as it came (decoded from its JSON string).
    json_unescape(JsonSlice{JsonType::string, chunk.text_json}, reply_);
    if (reply_.size() > reply_cap_) reply_.resize(utf8_prefix(reply_, reply_cap_).size());
  }
  if (chunk.kind == ChunkKind::error) {
    chunk_error_ = ErrorKind::kServerError;
    error_body_.assign(chunk.error_message.substr(0, kErrorBodyBytes));
    return false;
  }
  return true;
}

void Request::fail_now(int64_t t, ErrorKind kind, std::string_view message) {
  const PlanGroup& g = ctx_.plan->groups[size_t(group_)];
  std::string msg = target_->endpoint.display() + ": " + std::string(message);
  ctx_.pools[size_t(g.target)]->cancel(this);  // no further listener call; closes
  timing_.on_end(t);
  finish(t, kind, msg);
}

void Request::on_complete(int64_t t) {
  timing_.on_end(t);
  if (http_error_) {
    std::string msg = target_->endpoint.display() + ": HTTP " + std::to_string(status_);
    if (!error_body_.empty()) msg += ": " + error_body_;
    finish(t, http_error_, msg);
    return;
  }
  now_ = t;
  now_kernel_ = connection() != nullptr && connection()->read_kernel_stamped();
  const StreamDecoder::Status st = decoder_->finish(*this);
  if (st == StreamDecoder::Status::kMalformed || st == StreamDecoder::Status::kTooLarge) {
    finish(t, ErrorKind::kProtocol, target_->endpoint.display() + ": " + decoder_->error());
    return;
  }
  if (chunk_error_) {
    finish(t, chunk_error_, target_->endpoint.display() + ": " + error_body_);
    return;
  }
  if (!decoder_->state().final_seen) {
    finish(t, ErrorKind::kTruncated,
           target_->endpoint.display() + ": the stream ended without its terminator");
    return;
  }
  finish(t, std::nullopt, {});
}

void Request::on_error(int64_t t, const NetError& error) {
  timing_.on_end(t);
  if (error.kind == ErrorKind::kCancelled && cancel_at_ns_ != 0) {
    // Our own close came due (arm): the connection is closed, the server sees it go.
    client_cancelled_ = true;
    finish(t, std::nullopt, {});
    return;
  }
  finish(t, error.kind, error.message);
}

void Request::on_retry(int64_t) {
  ++retries_;
}

void Request::finish(int64_t t, std::optional<ErrorKind> error, std::string_view message) {
  (void)t;
  if (!active_) return;
  active_ = false;
  outcome_ = error;
  const bool client_cancelled = std::exchange(client_cancelled_, false);
  const int record = ctx_.plan->record_group(group_, item_);
  if (GroupStats* g = ctx_.recorder->group(ticket_.measured, record)) {
    timing_.record_client(ctx_.recorder->active().client, !error && !client_cancelled);
    // prompts.tokenizer and no usage: the output text is encoded now, once per request (never
    // per chunk).
    decoder_->state().tokenized_tokens = output_text_.count(decoder_->state());
    const StreamState& stream = decoder_->state();
    ServerValues server;
    if (error) {
      g->record_error(*error, message);
      timing_.record_failed_facts(*g, stream);
    } else if (client_cancelled) {
      g->record_client_cancelled();
      timing_.record_cancelled(*g, stream);
    } else {
      timing_.record_ok(*g, stream, ctx_.plan->slo);
      if (!stream.server.empty()) {
        server = server_values(stream.server, timing_.ttft(), stream.input_tokens());
        record_server_metrics(*g, server, stream.counted_tokens);
      }
    }
    g->counters.retries += retries_;
    g->counters.bytes_received += bytes_;
    if (ctx_.recorder->keep_rows()) {
      RequestRow row;
      row.request_id = request_id_;
      row.worker = ctx_.worker_id;
      row.group = ctx_.plan->record_groups[size_t(record)].key;
      row.prompt = prompt_ >= 0 ? prompt_ : ctx_.plan->items[size_t(item_)].prompt;
      const int64_t origin =
          timing_.sent() ? timing_.origin_ns() : (ticket_.open_loop ? ticket_.intended_ns : t);
      row.start_us = ns_to_us(origin - ctx_.window_start_ns);
      if (timing_.sent()) {
        row.sent_unix_ns = mono_to_unix_ns(timing_.sent_ns());
        if (ticket_.open_loop)
          row.queue_us = ns_to_us(std::max<int64_t>(0, timing_.sent_ns() - ticket_.intended_ns));
      }
      auto us = [](std::optional<int64_t> v) {
        return v ? std::optional<int64_t>(ns_to_us(*v)) : std::nullopt;
      };
      row.wait_us = us(timing_.wait());
      row.connect_us = us(timing_.connect());
      row.tls_us = us(timing_.tls());
      row.ttfb_us = us(timing_.ttfb());
      row.ttft_us = us(timing_.ttft());
      row.ttfo_us = us(timing_.ttfo());
      row.e2e_us = us(timing_.e2e());
      const TokenCount tc = stream.output_tokens();
      row.output_tokens = tc.value;
      row.tokens_source = tc.source == TokenSource::usage       ? TokensSource::kUsage
                          : tc.source == TokenSource::tokenizer ? TokensSource::kTokenizer
                                                                : TokensSource::kCounted;
      row.error = error;
      row.client_cancelled = client_cancelled;
      row.server = server.figures;
      if (stream.input_tokens() >= 0) row.input_tokens = stream.input_tokens();
      if (error) row.error_message = utf8_prefix(message, kRowMessageBytes);
      ctx_.recorder->add_row(std::move(row));
    }
  }
  ctx_.owner->on_request_done(*this);
}

}  // namespace llmload::worker
