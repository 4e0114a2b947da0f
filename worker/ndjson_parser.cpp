#include "worker/ndjson_parser.h"

#include <cstring>

#include "worker/line_join.h"

namespace llmload::worker {

NdjsonParser::NdjsonParser(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void NdjsonParser::reset() {
  line_.clear();
  lines_ = 0;
  failed_ = false;
}

namespace {
inline bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}
}  // namespace

bool NdjsonParser::deliver(std::string_view line, Sink& sink) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (is_blank(line)) return true;
  ++lines_;
  return sink.on_line(line);
}

ParseStatus NdjsonParser::feed(const char* p, size_t n, Sink& sink) {
  if (failed_) return ParseStatus::too_large;
  const char* end = p + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    if (!nl) {
      // +1: the partial line may end in the CR of a CRLF.
      if (!carry_partial(line_, p, end, max_line_bytes_ + 1)) {
        failed_ = true;
        return ParseStatus::too_large;
      }
      break;
    }
    const std::string_view line = join_line(line_, p, nl);
    // The limit counts the line without its line end (a CR before the LF is part of the end).
    const size_t content = (!line.empty() && line.back() == '\r') ? line.size() - 1 : line.size();
    if (content > max_line_bytes_) {
      failed_ = true;
      return ParseStatus::too_large;
    }
    p = nl + 1;
    const bool go_on = deliver(line, sink);
    line_.clear();
    if (!go_on) return ParseStatus::stopped;
  }
  return ParseStatus::ok;
}

ParseStatus NdjsonParser::finish(Sink& sink) {
  if (failed_) return ParseStatus::too_large;
  if (line_.empty()) return ParseStatus::ok;
  // The carried-over line may hold limit + 1 bytes (waiting for a possible CRLF's LF).
  const bool cr = line_.back() == '\r';
  if (line_.size() - (cr ? 1 : 0) > max_line_bytes_) {
    failed_ = true;
    line_.clear();
    return ParseStatus::too_large;
  }
  const bool go_on = deliver(line_, sink);
  line_.clear();
  return go_on ? ParseStatus::ok : ParseStatus::stopped;
}

}  // namespace llmload::worker
