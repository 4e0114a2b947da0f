#include "worker/http_request.h"

#include <strings.h>

namespace llmload::worker {
namespace {

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Expected<HttpRequest> HttpRequest::build(std::string_view method, const Endpoint& endpoint,
                                         std::string_view path,
                                         const std::vector<HttpHeader>& headers,
                                         std::string_view body, std::string_view content_type) {
  if (method.empty()) return Error{"HTTP request: empty method"};
  for (char c : method)
    if (!is_token_char(c)) return Error{"HTTP request: invalid method"};
  if (path.empty() || path[0] != '/') return Error{"HTTP request: path must start with '/'"};
  for (char c : path)
    if (c <= ' ' || c == 0x7f) return Error{"HTTP request: invalid character in path"};

  bool custom_agent = false;
  bool custom_type = false;
  for (const HttpHeader& h : headers) {
    if (h.name.empty()) return Error{"header with an empty name"};
    for (char c : h.name)
      if (!is_token_char(c)) return Error{"header '" + h.name + "': invalid character in name"};
    for (char c : h.value)
      if (c == '\r' || c == '\n' || c == '\0')
        return Error{"header '" + h.name + "': value contains CR, LF or NUL"};
    if (iequals(h.name, "host") || iequals(h.name, "content-length") ||
        iequals(h.name, "transfer-encoding"))
      return Error{"header '" + h.name + "' is set by llmload and cannot be overridden"};
    if (iequals(h.name, "user-agent")) custom_agent = true;
    if (iequals(h.name, "content-type")) custom_type = true;
  }

  HttpRequest r;
  std::string& b = r.bytes_;
  b.reserve(256 + body.size());
  b.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
  b.append("Host: ").append(endpoint.host_header()).append("\r\n");
  if (!custom_agent) b.append("User-Agent: llmload/" LLMLOAD_VERSION "\r\n");
  for (const HttpHeader& h : headers) b.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!custom_type && !content_type.empty())
      b.append("Content-Type: ").append(content_type).append("\r\n");
    b.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  b.append("\r\n");
  r.head_size_ = b.size();
  b.append(body);
  return r;
}

void HttpRequest::assign_with_body(std::string_view head, std::string_view body) {
  bytes_.clear();
  bytes_.append(head).append(std::to_string(body.size())).append("\r\n\r\n");
  head_size_ = bytes_.size();
  bytes_.append(body);
}

}  // namespace llmload::worker
