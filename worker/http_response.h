// An incremental HTTP/1.1 response parser on llhttp: status, the few headers llmload needs
// (x-request-id, content-type), bodies delimited by content-length, chunked encoding or the
// connection's close. Bounded: the status line and headers together may not exceed
// kMaxHeaderBytes. 1xx interim responses are skipped. One static llhttp_settings_t maps the
// C callbacks onto this class.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmload::worker {

// What the head of a response says. Views are valid during the on_head call only.
struct ResponseHead {
  int status = 0;
  std::string_view request_id;    // x-request-id ("" if absent; at most 256 bytes kept)
  std::string_view content_type;  // content-type ("" if absent)
  bool keep_alive = false;        // the connection may carry another request afterwards
};

// Receives a response as it is parsed. Returning false stops the parse (kStopped).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual bool on_head(const ResponseHead& head) = 0;
  virtual bool on_body(const char* data, size_t len) = 0;
};

enum class HttpParseStatus {
  kNeedMore,  // all input consumed, the response is not complete yet
  kComplete,  // the response is complete (bytes after it are left unconsumed)
  kError,     // malformed, or over a bound: error() says why
  kStopped,   // the sink returned false
};

class HttpResponseParser {
 public:
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  static constexpr size_t kMaxRequestIdBytes = 256;

  explicit HttpResponseParser(ResponseSink* sink);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Ready for a new response (the next request on a keep-alive connection).
  void reset();
  // Parses `len` bytes; *consumed says how many were used (all, unless complete/error/stopped).
  HttpParseStatus feed(const char* data, size_t len, size_t* consumed);
  // The connection ended: completes a close-delimited body (kComplete), else kError with
  // a "truncated" explanation, or kNeedMore if no response byte was seen at all.
  HttpParseStatus finish();

  bool started() const { return bytes_seen_ > 0; }  // any byte of this response seen
  bool head_done() const { return head_done_; }
  bool complete() const { return complete_; }
  bool keep_alive() const { return keep_alive_; }
  int status() const { return status_; }
  // Why the parse failed; truncated() tells an EOF inside the body from malformed bytes.
  const std::string& error() const { return error_; }
  bool truncated() const { return truncated_; }

 private:
  friend struct ParserCallbacks;
  int on_header_field(const char* at, size_t len);
  int on_header_value(const char* at, size_t len);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(const char* at, size_t len);
  int on_message_complete();
  bool count_header_bytes(size_t len);

  enum class Capture : uint8_t { kNone, kRequestId, kContentType };

  llhttp_t parser_;
  ResponseSink* sink_;
  size_t bytes_seen_ = 0;
  size_t header_bytes_ = 0;
  char name_[32];  // current header name, lower-cased (longer names are not ours)
  size_t name_len_ = 0;
  Capture capture_ = Capture::kNone;
  std::string request_id_;
  std::string content_type_;
  int status_ = 0;
  bool head_done_ = false;
  bool complete_ = false;
  bool interim_ = false;  // parsing a 1xx response
  bool keep_alive_ = false;
  bool stopped_ = false;
  bool truncated_ = false;
  std::string error_;
};

}  // namespace llmload::worker
