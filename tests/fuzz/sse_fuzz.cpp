// libFuzzer target: the SSE parser on arbitrary bytes, fed whole and split, with a small event
// limit. Checks: no crash, both feedings give the same events, no event exceeds the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "worker/sse_parser.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace {
struct Collect : llmload::worker::SseParser::Sink {
  std::vector<std::string> events;
  size_t limit = 0;
  bool on_event(std::string_view e, std::string_view d) override {
    if (d.size() > limit) std::abort();
    events.emplace_back(std::string(e) + '\0' + std::string(d));
    return true;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the split points and the limit.
  const size_t limit = 16 + data[0] * 4;
  const char* p = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;

  llmload::worker::SseParser whole(limit);
  Collect a;
  a.limit = limit;
  const auto sa = whole.feed(p, n, a);

  llmload::worker::SseParser split(limit);
  Collect b;
  b.limit = limit;
  auto sb = llmload::worker::ParseStatus::ok;
  const size_t step = 1 + data[0] % 7;
  for (size_t i = 0; i < n && sb == llmload::worker::ParseStatus::ok; i += step)
    sb = split.feed(p + i, std::min(step, n - i), b);

  if (sa != sb) std::abort();
  if (sa == llmload::worker::ParseStatus::ok && a.events != b.events) std::abort();
  return 0;
}
