// Incremental newline-delimited JSON splitter (Ollama's streaming framing).
//
// Feed the body in any pieces; the sink is called once per line (LF or CRLF ended, the line end
// removed). Lines that are empty or only whitespace are skipped. A line lying wholly inside one
// feed is passed without copying; a line split across feeds is assembled in a reused buffer.
// Bounded: a line over max_line_bytes (1 MiB by default) is a protocol error: feed returns
// ParseStatus::too_large and the parser stays failed until reset(). The JSON itself is not
// checked here (the adapter does that).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "worker/sse_parser.h"  // ParseStatus, kDefaultMaxEventBytes

namespace llmload::worker {

class NdjsonParser {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // One line without its line end; valid only during the call. Return false to stop.
    virtual bool on_line(std::string_view line) = 0;
  };

  explicit NdjsonParser(size_t max_line_bytes = kDefaultMaxEventBytes);

  ParseStatus feed(const char* p, size_t n, Sink& sink);
  ParseStatus feed(std::string_view s, Sink& sink) { return feed(s.data(), s.size(), sink); }

  // At the end of the body: delivers a last line that had no line end (if not blank). The
  // engine still decides truncation from the adapter's `final`, not from this.
  ParseStatus finish(Sink& sink);

  void reset();

  void set_max_line_bytes(size_t n) { max_line_bytes_ = n; }
  size_t max_line_bytes() const { return max_line_bytes_; }
  size_t lines() const { return lines_; }
  bool failed() const { return failed_; }

 private:
  bool deliver(std::string_view line, Sink& sink);

  size_t max_line_bytes_;
  std::string line_;  // a partial line carried over from the previous feed
  size_t lines_ = 0;
  bool failed_ = false;
};

}  // namespace llmload::worker
