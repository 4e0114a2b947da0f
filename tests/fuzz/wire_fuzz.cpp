// Hostile bytes into the wire decoder: the first byte picks the message type, the rest is the
// body. Nothing may crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kTypes[] = {"HELLO", "WELCOME", "REJECT", "PING", "PONG",
                                 "RUN",   "REPORT",  "DONE",   "STOP", "BYE"};
  const char* type = kTypes[data[0] % 10];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  llmload::wire::DecodeLimits limits;
  limits.max_body_bytes = 1 << 20;
  limits.stats.max_counts_len = 1 << 16;
  (void)llmload::wire::decode(type, body, limits);
  return 0;
}
