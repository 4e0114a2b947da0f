// Hostile bytes into the wire decoder: the first byte picks the message type, the rest is the
// body. Nothing may crash, hang or allocate without bound. A REPORT is decoded both ways (every
// histogram decoded; histograms kept encoded, as the coordinator reads them): the same
// acceptance, and merged into a GroupStats the same counts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "common/wire.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Every group of the snapshot merged into one (labels dropped); false on a merge overflow.
bool merged(const llmload::IntervalSnapshot& s, llmload::GroupStats& out) {
  try {
    for (const auto& g : s.groups) out.merge(g);
  } catch (const std::overflow_error&) {
    return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kTypes[] = {"HELLO", "WELCOME", "REJECT", "PING", "PONG",
                                 "RUN",   "REPORT",  "DONE",   "STOP", "BYE"};
  const char* type = kTypes[data[0] % 10];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  llmload::wire::DecodeLimits limits;
  limits.max_body_bytes = 1 << 20;
  limits.stats.max_counts_len = 1 << 16;
  auto decoded = llmload::wire::decode(type, body, limits);
  if (std::string_view(type) != "REPORT") return 0;
  limits.stats.keep_encoded = true;
  auto kept = llmload::wire::decode(type, body, limits);
  check(decoded.ok() == kept.ok());
  if (!decoded.ok()) return 0;
  const auto& a = std::get<llmload::wire::Report>(decoded.value());
  const auto& b = std::get<llmload::wire::Report>(kept.value());
  check(a.snapshot.has_value() == b.snapshot.has_value());
  if (!a.snapshot) return 0;
  llmload::GroupStats from_decoded, from_kept;
  if (merged(*a.snapshot, from_decoded) && merged(*b.snapshot, from_kept)) {
    check(from_decoded == from_kept);
  }
  return 0;
}
