// One HTTP request as the mock's connection read it (llhttp fills it; request_plan reads it).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmload::mock {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string url;     // as sent, query included
  std::string body;
  bool keep_alive = true;
  // Only the headers the mock acts on: names lowercased (x-mock-*).
  std::vector<std::pair<std::string, std::string>> mock_headers;

  void clear() {
    method.clear();
    url.clear();
    body.clear();
    keep_alive = true;
    mock_headers.clear();
  }
  std::string_view path() const {
    std::string_view u = url;
    size_t q = u.find('?');
    return q == std::string_view::npos ? u : u.substr(0, q);
  }
  // The value of an x-mock-* header (lowercase name), or nullptr.
  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : mock_headers)
      if (k == name) return &v;
    return nullptr;
  }
};

}  // namespace llmload::mock
