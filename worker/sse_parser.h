// Incremental Server-Sent Events parser (WHATWG HTML "event stream" interpretation rules).
//
// Feed it the response body in whatever pieces the socket delivers; it calls the sink once per
// dispatched event. Rules implemented:
// - line ends LF, CRLF and CR, including a CR ending one feed and its LF starting the next;
// - a UTF-8 BOM at the very start of the stream is skipped (even when split across feeds);
// - `:` starts a comment line (ignored); a line with no colon is a field with an empty value;
//   one optional space after the colon is removed;
// - `data` lines are joined with "\n"; `event` sets the event name; `id` and `retry` are
//   accepted and ignored; unknown fields are ignored;
// - a blank line dispatches the event; an event with no `data` line is not dispatched (its name
//   is dropped); an incomplete event at the end of the stream is never dispatched.
// Bounded: an event whose joined data exceeds max_event_bytes (1 MiB by default), or a single
// line longer than that plus a 64-byte allowance for its field name, is a protocol error: feed
// returns ParseStatus::too_large (refused before the buffer grows past it) and the parser stays
// failed until reset(). Buffers never grow past the limit and are reused across events (no heap
// allocation per event once warmed up).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmload::worker {

enum class ParseStatus : uint8_t {
  ok,         // every byte consumed
  too_large,  // an event (SSE) or line (NDJSON) exceeded the limit: protocol error
  stopped,    // the sink asked to stop; the rest of the input was not parsed (reset() to reuse)
};

const char* to_string(ParseStatus s);

inline constexpr size_t kDefaultMaxEventBytes = size_t(1) << 20;

class SseParser {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // One dispatched event. `event` is the event name, empty when the stream gave none (the
    // WHATWG default "message"); `data` is the joined data without the final "\n". Both views
    // are valid only during the call. Return false to stop parsing (feed returns stopped).
    virtual bool on_event(std::string_view event, std::string_view data) = 0;
  };

  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes);

  ParseStatus feed(const char* p, size_t n, Sink& sink);
  ParseStatus feed(std::string_view s, Sink& sink) { return feed(s.data(), s.size(), sink); }

  // Forget everything (a new stream starts; a BOM is skipped again). Keeps buffer capacity.
  void reset();

  void set_max_event_bytes(size_t n) { max_event_bytes_ = n; }
  size_t max_event_bytes() const { return max_event_bytes_; }
  // Events dispatched since construction or reset().
  size_t events() const { return events_; }
  bool failed() const { return failed_; }

 private:
  // Processes one complete line (without its line end). Returns false when the sink stopped.
  bool on_line(std::string_view line, Sink& sink);
  bool dispatch(Sink& sink);

  size_t max_event_bytes_;
  std::string line_;   // a partial line carried over from the previous feed
  std::string data_;   // data of the event being assembled (each line followed by '\n')
  std::string event_;  // event name of the event being assembled
  size_t events_ = 0;
  bool has_data_ = false;    // a data field was seen for the current event
  bool pending_cr_ = false;  // last feed ended with CR: skip an LF at the start of the next one
  bool at_start_ = true;     // still looking for a BOM at the start of the stream
  bool failed_ = false;
};

}  // namespace llmload::worker
