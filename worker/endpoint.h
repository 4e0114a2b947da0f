// A target's base URL, `scheme://host[:port][/prefix]`, parsed once. Each API adapter appends
// its endpoint path (/v1/chat/completions, /api/chat, ...) through path_for(); a prefix ending
// in /v1 is an OpenAI-style base URL and /v1 is then not repeated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload::worker {

struct Endpoint {
  bool tls = false;    // https
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit or the scheme's default (80 / 443)
  std::string prefix;  // "" or "/a/b" (no trailing slash)

  // Parses `http[s]://host[:port][/prefix]`. Refuses other schemes, an empty host, a bad port,
  // credentials in the URL (user:pass@: use a header instead; the error never echoes them),
  // a query or a fragment. Errors name the URL (credentials removed).
  static Expected<Endpoint> parse(std::string_view url);

  // `url` with any user:password@ replaced by ***@ (for messages about an unparsable URL).
  static std::string redact(std::string_view url);

  // The request path for an adapter's endpoint path (which starts with '/'):
  // prefix "/v1" + "/v1/models" -> "/v1/models"; prefix "/proxy" + "/v1/models" ->
  // "/proxy/v1/models".
  std::string path_for(std::string_view endpoint_path) const;

  // The prefix without a trailing "/v1" (where a server's /health lives).
  std::string_view base_prefix() const;

  // Value of the Host header: host, or host:port when the port is not the scheme's default
  // (IPv6 literals bracketed).
  std::string host_header() const;

  // The URL for messages and results: scheme://host:port/prefix (never any secret).
  std::string display() const;

  // True when host is an IPv4 or IPv6 literal (no DNS, no SNI).
  bool host_is_ip() const;
};

}  // namespace llmload::worker
