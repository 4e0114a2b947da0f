// The ground-truth log (--truth FILE): one JSON object per line per request, written by its own
// thread so an event loop never waits for the disk. docs/mock.md lists the fields. Times are
// CLOCK_MONOTONIC nanoseconds (the same clock as llmload's own measurements on this host);
// 0 means "did not happen". Each record also carries the wall clock's offset from the monotonic
// one, so its times convert to CLOCK_REALTIME and join a client's sent_unix_ns on any host.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/expected.h"

namespace llmload::mock {

struct TruthRecord {
  std::string id;        // x-request-id
  std::string path;      // request path
  const char* api = "";  // api_name(), or "" for a plain reply
  const char* fault = "none";
  const char* outcome = "ok";  // ok | client_closed | fault | refused | error | shutdown
  int loop = 0;
  int status = 0;
  bool stream = false;
  bool queued = false;           // waited for a capacity slot
  int64_t received_ns = 0;       // request fully read
  int64_t started_ns = 0;        // capacity slot acquired (generation began)
  int64_t headers_ns = 0;        // response headers handed to the kernel
  int64_t first_content_ns = 0;  // first token-bearing chunk handed to the kernel
  int64_t last_byte_ns = 0;      // last byte of the response handed to the kernel
  int64_t closed_ns = 0;         // the connection went away mid-response (client_closed, shutdown)
  int tokens = 0;                // tokens sent (content + reasoning)
  int reasoning_tokens = 0;      // of which reasoning
  int prompt_tokens = 0;
  uint64_t body_hash = 0;  // FNV-1a 64 of the request body (tells requests' bodies apart)
  int64_t late_max_ns = 0;  // worst emission lateness of this response
  // CLOCK_REALTIME − CLOCK_MONOTONIC (ns) on the pushing thread, set by push().
  int64_t unix_offset_ns = 0;
  std::string conn;  // the connection it came on ("c<loop>-<n>"): requests on one share it
  // With MockOptions::truth_text only (else empty, and not written): the request body as read,
  // and the answer text streamed (the content tokens' words, as sent).
  bool with_text = false;
  std::string body;
  std::string text;
};

class TruthLog {
 public:
  TruthLog() = default;
  ~TruthLog();
  // Opens (truncates) the file and starts the writer. The error names the file.
  Expected<bool> open(const std::string& path);
  // From any thread; never blocks on I/O (a short mutex hold to append to a vector).
  void push(TruthRecord r);
  // Writes everything pushed so far, stops the writer, closes the file.
  void close();
  static std::string to_json(const TruthRecord& r);
  // FNV-1a 64 of `bytes` (TruthRecord::body_hash).
  static uint64_t hash(std::string_view bytes);

 private:
  void run();
  std::FILE* file_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TruthRecord> pending_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace llmload::mock
