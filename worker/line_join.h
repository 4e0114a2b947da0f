// Lines split across socket reads, for the line-based stream parsers (SSE, NDJSON): the bytes of
// a line not yet ended wait in a carry buffer, bounded; a line that ends in this read is handed
// on in place when nothing was carried (no copy on the common path).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmload::worker {

// The line ending at `eol` (exclusive) that began with `carry`'s bytes (if any) and goes on at
// `p`. Valid until `carry` changes: the caller clears it once the line is used.
inline std::string_view join_line(std::string& carry, const char* p, const char* eol) {
  if (carry.empty()) return std::string_view(p, static_cast<size_t>(eol - p));
  carry.append(p, static_cast<size_t>(eol - p));
  return carry;
}

// Keeps the unended bytes [p, end) in `carry` for the next read; false (nothing kept) when the
// carried line would exceed `limit` bytes.
inline bool carry_partial(std::string& carry, const char* p, const char* end, size_t limit) {
  const size_t add = static_cast<size_t>(end - p);
  if (carry.size() + add > limit) return false;
  carry.append(p, add);
  return true;
}

}  // namespace llmload::worker
