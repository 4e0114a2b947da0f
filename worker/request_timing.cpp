#include "worker/request_timing.h"

#include <algorithm>
#include <cmath>

namespace llmload::worker {

void RequestTiming::begin(bool open_loop, int64_t intended_ns, int64_t begun_ns, bool streamed) {
  open_loop_ = open_loop;
  streamed_ = streamed;
  intended_ns_ = open_loop ? intended_ns : -1;
  begun_ns_ = begun_ns;
  connect_ns_ = tls_ns_ = sent_ns_ = -1;
  end_ns_ = -1;
  clear_response();
}

void RequestTiming::clear_response() {
  first_byte_ns_ = ttft_ns_ = ttfo_ns_ = last_token_ns_ = -1;
  token_chunks_ = zero_gaps_ = max_gap_ns_ = 0;
  gaps_us_.clear();
  token_reads_ = kernel_reads_ = read_events_ = read_window_us_ = uncertain_ = 0;
  windows_us_.clear();
}

void RequestTiming::on_connected(int64_t connect_ns, int64_t tls_ns) {
  connect_ns_ = std::max<int64_t>(0, connect_ns);
  tls_ns_ = std::max<int64_t>(0, tls_ns);
}

void RequestTiming::on_sent(int64_t t) {
  sent_ns_ = t;
  // A retry re-sends from scratch: nothing of the first attempt's response counts.
  clear_response();
}

void RequestTiming::on_first_byte(int64_t t) {
  if (first_byte_ns_ < 0) first_byte_ns_ = t;
}

void RequestTiming::on_chunk(int64_t t, const ChunkInfo& chunk, bool kernel) {
  // A non-streamed body is classified once, at its end: it times no token.
  if (!streamed_ || !is_token_bearing(chunk.kind)) return;
  const int64_t k = std::max<int32_t>(1, chunk.tokens);
  if (ttft_ns_ >= 0 && t == last_token_ns_) {
    ++read_events_;  // another event of the same read
  } else {
    start_read(t, kernel);
  }
  if (ttft_ns_ < 0) {
    ttft_ns_ = t;
  } else {
    const int64_t gap = std::max<int64_t>(0, t - last_token_ns_);
    max_gap_ns_ = std::max(max_gap_ns_, gap);
    const int64_t us = std::min<int64_t>(ns_to_us(gap), INT32_MAX);
    gaps_us_.push_back(static_cast<int32_t>(us));
  }
  if (ttfo_ns_ < 0 && is_output_content(chunk.kind)) ttfo_ns_ = t;
  zero_gaps_ += k - 1;
  ++token_chunks_;
  last_token_ns_ = t;
}

void RequestTiming::start_read(int64_t t, bool kernel) {
  if (read_events_ > 1) {
    uncertain_ += read_events_;
    windows_us_.push_back(static_cast<int32_t>(std::min<int64_t>(read_window_us_, INT32_MAX)));
  }
  // The previous read: the previous token read, else the one that brought the first byte (when
  // it came before this one), else the request's write.
  const int64_t prev = last_token_ns_ >= 0                         ? last_token_ns_
                       : first_byte_ns_ >= 0 && first_byte_ns_ < t ? first_byte_ns_
                                                                   : sent_ns_;
  read_window_us_ = prev >= 0 ? ns_to_us(std::max<int64_t>(0, t - prev)) : 0;
  read_events_ = 1;
  ++token_reads_;
  if (kernel) ++kernel_reads_;
}

void RequestTiming::on_end(int64_t t) {
  if (end_ns_ < 0) end_ns_ = t;
}

std::optional<int64_t> RequestTiming::wait() const {
  if (sent_ns_ < 0 || begun_ns_ < 0) return std::nullopt;
  return std::max<int64_t>(0, sent_ns_ - begun_ns_);
}

std::optional<int64_t> RequestTiming::ttfb() const {
  if (sent_ns_ < 0 || first_byte_ns_ < 0) return std::nullopt;
  return std::max<int64_t>(0, first_byte_ns_ - sent_ns_);
}
std::optional<int64_t> RequestTiming::ttft() const {
  if (sent_ns_ < 0 || ttft_ns_ < 0) return std::nullopt;
  return std::max<int64_t>(0, ttft_ns_ - origin_ns());
}
std::optional<int64_t> RequestTiming::ttfo() const {
  if (sent_ns_ < 0 || ttfo_ns_ < 0) return std::nullopt;
  return std::max<int64_t>(0, ttfo_ns_ - origin_ns());
}
std::optional<int64_t> RequestTiming::e2e() const {
  if (sent_ns_ < 0 || end_ns_ < 0) return std::nullopt;
  return std::max<int64_t>(0, end_ns_ - origin_ns());
}

bool RequestTiming::meets_slo(const StreamState& stream, const RequestSlo& slo) const {
  if (slo.empty()) return true;
  const int64_t n = stream.output_tokens().value;
  if (slo.ttft_ns && (!ttft() || *ttft() > *slo.ttft_ns)) return false;
  if (slo.ttfo_ns && (!ttfo() || *ttfo() > *slo.ttfo_ns)) return false;
  if (slo.e2e_ns && (!e2e() || *e2e() > *slo.e2e_ns)) return false;
  if (slo.itl_ns && max_gap_ns_ > *slo.itl_ns) return false;
  if (slo.tpot_ns && n >= 2 && ttft() && e2e()) {
    const int64_t tpot = (*e2e() - *ttft()) / (n - 1);
    if (tpot > *slo.tpot_ns) return false;
  }
  return true;
}

void RequestTiming::record_failed_facts(GroupStats& stats, const StreamState& stream) const {
  if (connect_ns_ >= 0) stats.record_ns(Metric::kConnect, connect_ns_);
  if (tls_ns_ > 0) stats.record_ns(Metric::kTls, tls_ns_);
  if (auto w = wait()) stats.record_ns(Metric::kWait, *w);
  const TokenCount out = stream.output_tokens();
  stats.counters.output_tokens += out.value;
  if (stream.input_tokens() >= 0) stats.counters.input_tokens += stream.input_tokens();
  stats.counters.inputs += stream.inputs;
  switch (out.source) {
    case TokenSource::usage:
      ++stats.counters.tokens_from_usage;
      break;
    case TokenSource::counted:
      ++stats.counters.tokens_counted;
      break;
    case TokenSource::tokenizer:
      ++stats.counters.tokens_tokenized;
      break;
  }
}

void RequestTiming::record_cancelled(GroupStats& stats, const StreamState& stream) const {
  if (connect_ns_ >= 0) stats.record_ns(Metric::kConnect, connect_ns_);
  if (tls_ns_ > 0) stats.record_ns(Metric::kTls, tls_ns_);
  if (auto w = wait()) stats.record_ns(Metric::kWait, *w);
  // The tokens that came before the close; a cut stream has no usage yet, so it counts in
  // none of tokens_from_usage, tokens_counted, tokens_tokenized (no finding about missing usage).
  stats.counters.output_tokens += stream.output_tokens().value;
  if (stream.input_tokens() >= 0) stats.counters.input_tokens += stream.input_tokens();
  if (auto v = ttfb()) stats.record_ns(Metric::kTtfb, *v);
  if (auto v = ttft()) stats.record_ns(Metric::kTtft, *v);
}

void RequestTiming::record_client(ClientTiming& client, bool ok) const {
  client.token_reads += token_reads_;
  client.token_reads_kernel += kernel_reads_;
  if (!ok) return;
  client.timing_values += itl_values() + (ttft_ns_ >= 0 ? 1 : 0);
  client.timing_uncertain += uncertain_values();
  const int64_t highest = client.uncertain_window_us.highest_trackable();
  for (int32_t w : windows_us_) client.uncertain_window_us.record(std::min<int64_t>(w, highest));
  if (read_events_ > 1) client.uncertain_window_us.record(std::min(read_window_us_, highest));
}

void RequestTiming::record_ok(GroupStats& stats, const StreamState& stream,
                              const RequestSlo& slo) const {
  Counters& c = stats.counters;
  ++c.requests;
  ++c.ok;
  record_failed_facts(stats, stream);
  if (meets_slo(stream, slo)) ++c.goodput;

  const int64_t n = stream.output_tokens().value;
  stats.record(Metric::kOutputTokens, n);
  if (stream.input_tokens() >= 0) stats.record(Metric::kInputTokens, stream.input_tokens());
  if (auto v = ttfb()) stats.record_ns(Metric::kTtfb, *v);
  if (auto v = ttft()) stats.record_ns(Metric::kTtft, *v);
  if (auto v = ttfo()) stats.record_ns(Metric::kTtfo, *v);
  if (auto v = e2e()) stats.record_ns(Metric::kE2e, *v);
  if (open_loop_) {
    stats.record_ns(Metric::kQueue, std::max<int64_t>(0, sent_ns_ - intended_ns_));
    if (ttft_ns_ >= 0)
      stats.record_ns(Metric::kTtftSent, std::max<int64_t>(0, ttft_ns_ - sent_ns_));
    if (end_ns_ >= 0) stats.record_ns(Metric::kE2eSent, std::max<int64_t>(0, end_ns_ - sent_ns_));
  }
  for (int32_t g : gaps_us_) stats.record(Metric::kItl, g);
  if (zero_gaps_ > 0) stats.record(Metric::kItl, 0, zero_gaps_);
  if (n >= 2 && ttft() && e2e()) {
    const int64_t decode_ns = std::max<int64_t>(0, *e2e() - *ttft());
    stats.record_ns(Metric::kTpot, decode_ns / (n - 1));
    if (decode_ns > 0) {
      const double tps = double(n - 1) / (double(decode_ns) / 1e9);
      stats.record(Metric::kDecodeTps, std::llround(tps));
    }
  }
}

}  // namespace llmload::worker
