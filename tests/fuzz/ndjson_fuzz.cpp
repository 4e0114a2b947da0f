// libFuzzer target: the NDJSON splitter on arbitrary bytes, fed whole and in small pieces.
// Checks: no crash, both feedings agree, no line exceeds the limit or contains a line end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "worker/ndjson_parser.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace {
struct Collect : llmload::worker::NdjsonParser::Sink {
  std::vector<std::string> lines;
  size_t limit = 0;
  bool on_line(std::string_view l) override {
    if (l.size() > limit || l.find('\n') != std::string_view::npos) std::abort();
    lines.emplace_back(l);
    return true;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t limit = 8 + data[0] * 4;
  const char* p = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;

  llmload::worker::NdjsonParser whole(limit);
  Collect a;
  a.limit = limit;
  auto sa = whole.feed(p, n, a);
  if (sa == llmload::worker::ParseStatus::ok) sa = whole.finish(a);

  llmload::worker::NdjsonParser split(limit);
  Collect b;
  b.limit = limit;
  auto sb = llmload::worker::ParseStatus::ok;
  const size_t step = 1 + data[0] % 5;
  for (size_t i = 0; i < n && sb == llmload::worker::ParseStatus::ok; i += step)
    sb = split.feed(p + i, std::min(step, n - i), b);
  if (sb == llmload::worker::ParseStatus::ok) sb = split.finish(b);

  if (sa != sb) std::abort();
  if (sa == llmload::worker::ParseStatus::ok && a.lines != b.lines) std::abort();
  return 0;
}
