#include "worker/stream_decoder.h"

#include <algorithm>

#include "worker/api_adapter.h"
#include "worker/ndjson_parser.h"
#include "worker/sse_parser.h"

namespace llmload::worker {

struct StreamDecoder::Impl final : SseParser::Sink, NdjsonParser::Sink {
  Impl(const ApiAdapter& a, Framing f, size_t max) : adapter(a), framing(f), sse(max), ndjson(max) {
    if (f == Framing::json_body) body.reserve(4096);
  }
  bool classify(std::string_view event, std::string_view data) {
    const ClassifyStatus st = adapter.classify(event, data, *state, chunk);
    if (st == ClassifyStatus::malformed) {
      malformed = true;
      *error = "malformed chunk: ";
      error->append(chunk.error_message.substr(0, 200));
      return false;
    }
    return sink->on_chunk(chunk);
  }
  bool on_event(std::string_view event, std::string_view data) override {
    return classify(event, data);
  }
  bool on_line(std::string_view line) override { return classify({}, line); }

  const ApiAdapter& adapter;
  Framing framing;
  SseParser sse;
  NdjsonParser ndjson;
  std::string body;  // json_body only (bounded by max)
  size_t max = 0;
  ChunkInfo chunk;
  StreamState* state = nullptr;
  std::string* error = nullptr;
  StreamDecoder::Sink* sink = nullptr;
  bool malformed = false;
};

StreamDecoder::StreamDecoder(const ApiAdapter& adapter, bool streamed, size_t max_event_bytes)
    : impl_(std::make_unique<Impl>(adapter, adapter.framing(streamed), max_event_bytes)) {
  impl_->max = max_event_bytes;
  impl_->state = &state_;
  impl_->error = &error_;
}

StreamDecoder::~StreamDecoder() = default;

void StreamDecoder::reset() {
  impl_->sse.reset();
  impl_->ndjson.reset();
  impl_->body.clear();
  impl_->malformed = false;
  state_.reset();
  error_.clear();
}

namespace {
StreamDecoder::Status to_status(ParseStatus s, bool malformed) {
  if (malformed) return StreamDecoder::Status::kMalformed;
  switch (s) {
    case ParseStatus::ok:
      return StreamDecoder::Status::kOk;
    case ParseStatus::too_large:
      return StreamDecoder::Status::kTooLarge;
    case ParseStatus::stopped:
      return StreamDecoder::Status::kStopped;
  }
  return StreamDecoder::Status::kOk;
}
}  // namespace

StreamDecoder::Status StreamDecoder::feed(const char* data, size_t len, Sink& sink) {
  impl_->sink = &sink;
  switch (impl_->framing) {
    case Framing::sse: {
      const ParseStatus s = impl_->sse.feed(data, len, *impl_);
      if (s == ParseStatus::too_large) error_ = "SSE event over the size limit";
      return to_status(s, impl_->malformed);
    }
    case Framing::ndjson: {
      const ParseStatus s = impl_->ndjson.feed(data, len, *impl_);
      if (s == ParseStatus::too_large) error_ = "NDJSON line over the size limit";
      return to_status(s, impl_->malformed);
    }
    case Framing::json_body:
      if (impl_->body.size() + len > impl_->max) {
        error_ = "response body over the size limit";
        return Status::kTooLarge;
      }
      impl_->body.append(data, len);
      return Status::kOk;
  }
  return Status::kOk;
}

StreamDecoder::Status StreamDecoder::finish(Sink& sink) {
  impl_->sink = &sink;
  switch (impl_->framing) {
    case Framing::sse:
      return Status::kOk;
    case Framing::ndjson:
      return to_status(impl_->ndjson.finish(*impl_), impl_->malformed);
    case Framing::json_body:
      if (!impl_->classify({}, impl_->body) && impl_->malformed) return Status::kMalformed;
      // One whole body: its end is its terminator (a completions body has no done marker).
      state_.final_seen = true;
      return Status::kOk;
  }
  return Status::kOk;
}

}  // namespace llmload::worker
