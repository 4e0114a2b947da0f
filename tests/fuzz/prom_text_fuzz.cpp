// libFuzzer target: the Prometheus text reader (a target's /metrics, untrusted) and the series
// selection on arbitrary bytes. Checks: no crash, the limits hold, every kept value is finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/prom_text.h"
#include "common/target_series.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  llmload::PromLimits lim;
  lim.max_line_bytes = 256;
  lim.max_labels = 4;
  lim.max_samples = 64;
  auto page =
      llmload::parse_prom_text(std::string_view(reinterpret_cast<const char*>(data), size), lim);
  if (!page) return 0;
  if (page->samples.size() > lim.max_samples) std::abort();
  for (const auto& s : page->samples)
    if (s.name.empty() || s.series().size() > size + 2) std::abort();
  for (const auto& [name, v] : llmload::select_target_series(*page, {}))
    if (!std::isfinite(v)) std::abort();
  return 0;
}
