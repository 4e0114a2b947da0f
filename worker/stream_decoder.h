// StreamDecoder: one response body → ChunkInfo per event, for whatever framing the API uses
// (SSE, NDJSON or one JSON body), through the API's adapter. One per request slot, reset per
// request: buffers keep their capacity, so nothing is allocated per chunk once warmed up.
//
// This header deliberately includes neither the parsers nor api_adapter.h (their names clash
// with http_response.h's ParseStatus and scenario.h's Header); request.cpp includes only this.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "worker/chunk.h"

namespace llmload::worker {

class ApiAdapter;

class StreamDecoder {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // One classified chunk. Return false to stop decoding (feed returns kStopped).
    virtual bool on_chunk(const ChunkInfo& chunk) = 0;
  };
  enum class Status : uint8_t {
    kOk,         // all consumed
    kTooLarge,   // an event / line over the limit (error kind protocol)
    kMalformed,  // a chunk the adapter could not read (error kind protocol); see error()
    kStopped,    // the sink stopped
  };

  // `adapter` must outlive the decoder. json_body: the streamed flag was off.
  StreamDecoder(const ApiAdapter& adapter, bool streamed, size_t max_event_bytes);
  ~StreamDecoder();
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  void reset();
  Status feed(const char* data, size_t len, Sink& sink);
  // The body ended: a last NDJSON line without its newline, or the whole JSON body.
  Status finish(Sink& sink);

  StreamState& state() { return state_; }
  const StreamState& state() const { return state_; }
  // For kMalformed / kTooLarge: what was wrong (no payload beyond a short excerpt).
  const std::string& error() const { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  StreamState state_;
  std::string error_;
};

}  // namespace llmload::worker
