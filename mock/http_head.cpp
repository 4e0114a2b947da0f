#include "mock/http_head.h"

namespace llmload::mock {

const char* status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

void append_head(OutBuffer& out, int status, std::string_view content_type, int64_t content_length,
                 bool keep_alive, std::string_view request_id, std::string_view extra) {
  out.append("HTTP/1.1 ");
  out.append_i64(status);
  out.push(' ');
  out.append(status_text(status));
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  if (content_length < 0) {
    out.append("\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache");
  } else {
    out.append("\r\nContent-Length: ");
    out.append_i64(content_length);
  }
  out.append(keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close");
  out.append("\r\nServer: llmload-mock\r\nx-request-id: ");
  out.append(request_id);
  out.append("\r\n");
  out.append(extra);
  out.append("\r\n");
}

}  // namespace llmload::mock
