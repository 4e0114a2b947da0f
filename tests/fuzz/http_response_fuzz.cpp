// Feeds raw bytes to HttpResponseParser: the first byte picks a piece size, the rest is the
// response fed in pieces of that size, then EOF. Checks the parser's own invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "worker/http_response.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace {

struct Sink : llmload::worker::ResponseSink {
  size_t heads = 0;
  size_t body = 0;
  bool on_head(const llmload::worker::ResponseHead& h) override {
    ++heads;
    if (h.request_id.size() > llmload::worker::HttpResponseParser::kMaxRequestIdBytes) std::abort();
    if (h.status < 200 || h.status > 999) std::abort();
    return true;
  }
  bool on_body(const char*, size_t n) override {
    body += n;
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = size_t(data[0] % 64) + 1;
  const char* p = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1;
  Sink sink;
  llmload::worker::HttpResponseParser parser(&sink);
  llmload::worker::HttpParseStatus st = llmload::worker::HttpParseStatus::kNeedMore;
  while (left > 0 && st == llmload::worker::HttpParseStatus::kNeedMore) {
    const size_t n = left < piece ? left : piece;
    size_t used = 0;
    st = parser.feed(p, n, &used);
    if (used > n) std::abort();
    if (st == llmload::worker::HttpParseStatus::kNeedMore && used != n) std::abort();
    p += n;
    left -= n;
  }
  if (st == llmload::worker::HttpParseStatus::kNeedMore) st = parser.finish();
  if (st == llmload::worker::HttpParseStatus::kComplete && sink.heads != 1) std::abort();
  if (st == llmload::worker::HttpParseStatus::kError && parser.error().empty()) std::abort();
  if (sink.heads > 1) std::abort();
  return 0;
}
