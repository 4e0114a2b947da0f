#include "worker/sse_parser.h"

#include <cstring>

#include "worker/line_join.h"

namespace llmload::worker {

const char* to_string(ParseStatus s) {
  switch (s) {
    case ParseStatus::ok:
      return "ok";
    case ParseStatus::too_large:
      return "too_large";
    case ParseStatus::stopped:
      return "stopped";
  }
  return "?";
}

SseParser::SseParser(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

void SseParser::reset() {
  line_.clear();
  data_.clear();
  event_.clear();
  events_ = 0;
  has_data_ = false;
  pending_cr_ = false;
  at_start_ = true;
  failed_ = false;
}

namespace {
constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};
// A line may exceed the event limit by its field name, colon and space ("data: "), so an event
// of exactly max_event_bytes of data is accepted; longer lines are refused before buffering.
constexpr size_t kFieldSlack = 64;

// First CR or LF in [p, end), or end. Lines mostly end in LF: find it, then look for an
// earlier CR only in front of it (two memchr passes beat a byte loop).
inline const char* find_eol(const char* p, const char* end) {
  const char* lf = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
  const char* stop = lf ? lf : end;
  const char* cr = static_cast<const char*>(std::memchr(p, '\r', size_t(stop - p)));
  return cr ? cr : stop;
}
}  // namespace

ParseStatus SseParser::feed(const char* p, size_t n, Sink& sink) {
  if (failed_) return ParseStatus::too_large;
  const char* end = p + n;

  // A BOM at the very start of the stream, possibly split across feeds: its bytes so far wait in
  // line_ (they contain no line end, so they are a valid partial line if it turns out not to be
  // a BOM).
  while (at_start_ && p < end) {
    if (static_cast<unsigned char>(*p) != kBom[line_.size()]) {
      at_start_ = false;
      break;
    }
    line_.push_back(*p++);
    if (line_.size() == 3) {
      line_.clear();
      at_start_ = false;
    }
  }

  if (pending_cr_ && p < end) {
    pending_cr_ = false;
    if (*p == '\n') ++p;
  }

  while (p < end) {
    const char* eol = find_eol(p, end);
    if (eol == end) {
      // Partial line: keep it for the next feed, within the limit.
      if (!carry_partial(line_, p, end, max_event_bytes_ + kFieldSlack)) {
        failed_ = true;
        return ParseStatus::too_large;
      }
      break;
    }
    const std::string_view line = join_line(line_, p, eol);
    if (line.size() > max_event_bytes_ + kFieldSlack) {
      failed_ = true;
      return ParseStatus::too_large;
    }
    const bool cr = *eol == '\r';
    p = eol + 1;
    if (cr) {
      if (p < end) {
        if (*p == '\n') ++p;
      } else {
        pending_cr_ = true;
      }
    }
    const bool go_on = on_line(line, sink);
    line_.clear();
    if (failed_) return ParseStatus::too_large;
    if (!go_on) return ParseStatus::stopped;
  }
  return ParseStatus::ok;
}

bool SseParser::on_line(std::string_view line, Sink& sink) {
  if (line.empty()) return dispatch(sink);
  if (line.front() == ':') return true;  // comment
  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    // data_ holds each earlier line plus its '\n' joiner: this is the joined size.
    if (data_.size() + value.size() > max_event_bytes_) {
      failed_ = true;
      return true;  // feed reports too_large
    }
    data_.append(value.data(), value.size());
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value.data(), value.size());
  }
  // id, retry and unknown fields: accepted and ignored (we never reconnect).
  return true;
}

bool SseParser::dispatch(Sink& sink) {
  if (!has_data_) {
    event_.clear();
    return true;
  }
  std::string_view data(data_.data(), data_.size() - 1);  // without the last '\n'
  ++events_;
  const bool go_on = sink.on_event(event_, data);
  data_.clear();
  event_.clear();
  has_data_ = false;
  return go_on;
}

}  // namespace llmload::worker
