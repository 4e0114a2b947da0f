// Faults the mock injects, per request (header `x-mock-fault: NAME`) or at a rate over all
// requests (FaultPlan). docs/mock.md describes what each does on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "mock/distributions.h"

namespace llmload::mock {

enum class Fault : uint8_t {
  kNone,
  kReset,         // TCP RST after `after` tokens
  kStallHeaders,  // headers (and a role chunk) sent, then silence until the client leaves
  kStallMid,      // silence after `after` tokens until the client leaves
  kHttp429,       // 429 with Retry-After and an error JSON, no stream
  kHttp500,       // 500 with an error JSON
  kHttp503,       // 503 with an error JSON
  kMalformed,     // an event whose JSON is cut short, at token `after`; the stream goes on
  kErrorEvent,    // an error object inside the stream after `after` tokens, then the stream ends
  kHugeLine,      // an event line of `huge_line_bytes` (default 2 MiB) at token `after`
  kTruncated,     // a clean close (FIN) after `after` tokens, with no terminator
  kSlowHeaders,   // headers only after `delay_ns` (default 2 s), then a normal stream
  kDrip,          // the whole response trickles out one byte every `drip_ns` (default 1 ms)
  kDropNext,      // a normal response, then the next request on that keep-alive connection is
                  // read and dropped: FIN, no answer (a server's idle timeout racing a request)
};

// "reset", "stall_headers", ..., "drip", "drop_next"; "none" for kNone.
const char* fault_name(Fault f);
// The error names the text and lists the valid names.
Expected<Fault> parse_fault(std::string_view name);
// Every fault but kNone, in enum order.
const std::vector<Fault>& all_faults();

struct FaultPlan {
  double rate = 0;                   // probability that a request gets a fault, 0..1
  std::vector<Fault> kinds;          // chosen uniformly; empty: all_faults()
  int after = -1;                    // tokens before a mid-stream fault; -1: half the output
  int64_t delay_ns = 2'000'000'000;  // slow_headers delay
  int64_t drip_ns = 1'000'000;       // drip: gap between bytes
  size_t huge_line_bytes = 2 << 20;

  // Parses "reset,truncated,http429" into kinds; the error names the bad entry.
  Expected<bool> set_kinds(std::string_view csv);
  // The fault for one request: kNone with probability 1 - rate, else one of kinds.
  Fault pick(Rng& rng) const;
};

}  // namespace llmload::mock
