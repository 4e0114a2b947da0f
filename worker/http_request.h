// An HTTP/1.1 request serialised once (per prompt, by the engine) and then written as is on
// every connection that sends it: request line, Host, User-Agent, the scenario's custom
// headers, Content-Type and Content-Length when there is a body, then the body.
#pragma once

#include <uv.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "worker/endpoint.h"

namespace llmload::worker {

struct HttpHeader {
  std::string name;
  std::string value;  // may be a secret: never logged, never in an error message
};

class HttpRequest {
 public:
  // method "GET"/"POST"; path from Endpoint::path_for. A custom header named Host,
  // Content-Length or Transfer-Encoding is refused; a custom User-Agent or Content-Type
  // replaces the default. Errors name the header, never its value.
  static Expected<HttpRequest> build(std::string_view method, const Endpoint& endpoint,
                                     std::string_view path, const std::vector<HttpHeader>& headers,
                                     std::string_view body,
                                     std::string_view content_type = "application/json");

  // The bytes to write (head and body in one buffer, so one write carries them).
  const std::string& bytes() const { return bytes_; }
  uv_buf_t buf() const {
    return uv_buf_init(const_cast<char*>(bytes_.data()), unsigned(bytes_.size()));
  }
  size_t head_size() const { return head_size_; }

  // Refills this request (its buffer reused) as `head` (ending in "Content-Length: "), the
  // body's length, the blank line and `body`: a body written per send (worker/body_template.h).
  void assign_with_body(std::string_view head, std::string_view body);

 private:
  std::string bytes_;
  size_t head_size_ = 0;
};

}  // namespace llmload::worker
