// Fuzzes the two readers of untrusted result data: the summary.json reader (text) and the
// GroupStats / IntervalSnapshot wire decoders (MessagePack, as REPORT bodies carry them).
// Every input goes through both; neither may crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/group_stats.h"
#include "common/json_fields.h"
#include "common/results_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto summary = llmload::parse_summary(bytes, "fuzz.json");
  if (summary.ok()) {
    // Whatever was accepted must write out and read back to the same result.
    auto again = llmload::parse_summary(llmload::summary_to_string(*summary), "again.json");
    if (!again.ok() || !(*again == *summary)) __builtin_trap();
  }

  auto j = llmload::json_fields::parse_msgpack_bounded(bytes);
  if (j.ok()) {
    llmload::WireLimits limits;
    limits.max_counts_len = 1 << 16;
    auto snapshot = llmload::IntervalSnapshot::from_wire(*j, limits);
    if (snapshot.ok()) (void)snapshot->total();
    auto group = llmload::GroupStats::from_wire(*j, limits);
    if (group.ok()) {
      auto back = llmload::GroupStats::from_wire(group->to_wire(), limits);
      if (!back.ok() || !(*back == *group)) __builtin_trap();
    }
  }
  return 0;
}
