#include "worker/endpoint.h"

#include <arpa/inet.h>

#include <charconv>

namespace llmload::worker {
namespace {

Error bad(std::string_view url, std::string_view why);

}  // namespace

std::string Endpoint::redact(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t auth_begin = scheme_end + 3;
  size_t auth_end = url.find_first_of("/?#", auth_begin);
  if (auth_end == std::string_view::npos) auth_end = url.size();
  const size_t at = url.substr(0, auth_end).rfind('@');
  if (at == std::string_view::npos || at < auth_begin) return std::string(url);
  return std::string(url.substr(0, auth_begin)) + "***@" + std::string(url.substr(at + 1));
}

namespace {

Error bad(std::string_view url, std::string_view why) {
  return Error{"target URL '" + Endpoint::redact(url) + "': " + std::string(why)};
}

}  // namespace

Expected<Endpoint> Endpoint::parse(std::string_view url) {
  Endpoint e;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    e.tls = true;
    rest = url.substr(8);
  } else {
    return bad(url, "scheme must be http:// or https://");
  }
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos)
    return bad(url,
               "credentials in the URL are not supported (use a header such as "
               "'Authorization: Bearer ${VAR}')");
  if (path.find_first_of("?#") != std::string_view::npos)
    return bad(url, "a query or fragment is not allowed in a base URL");

  std::string_view host;
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad(url, "unexpected text after IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return bad(url, "empty port");
    }
    in6_addr a6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
      return bad(url, "invalid IPv6 literal");
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad(url, "empty port");
    } else {
      host = authority;
    }
  }
  if (host.empty()) return bad(url, "missing host");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':' || c == '%';
    if (!ok) return bad(url, "invalid character in host");
  }
  e.host = std::string(host);
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v == 0 || v > 65535)
      return bad(url, "port must be 1..65535");
    e.port = uint16_t(v);
  } else {
    e.port = e.tls ? 443 : 80;
  }
  std::string prefix(path);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  e.prefix = std::move(prefix);
  return e;
}

std::string Endpoint::path_for(std::string_view endpoint_path) const {
  std::string_view p = prefix;
  if (p.ends_with("/v1") && (endpoint_path == "/v1" || endpoint_path.starts_with("/v1/")))
    p.remove_suffix(3);
  std::string out(p);
  out += endpoint_path;
  if (out.empty()) out = "/";
  return out;
}

std::string_view Endpoint::base_prefix() const {
  std::string_view p = prefix;
  if (p.ends_with("/v1")) p.remove_suffix(3);
  return p;
}

bool Endpoint::host_is_ip() const {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string Endpoint::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string Endpoint::display() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string s = tls ? "https://" : "http://";
  s += v6 ? "[" + host + "]" : host;
  s += ":" + std::to_string(port);
  s += prefix;
  return s;
}

}  // namespace llmload::worker
