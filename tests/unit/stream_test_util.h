// Test helpers for the stream parsers and adapters: replaying captured responses (raw socket
// bytes with HTTP headers and chunked framing) and feeding input split at every byte boundary.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llmload::testutil {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The body of a raw HTTP/1.1 response: headers stripped, chunked framing removed.
inline std::string http_body(const std::string& raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("no end of headers");
  std::string head = raw.substr(0, head_end);
  for (char& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
  std::string rest = raw.substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") == std::string::npos) return rest;
  std::string body;
  size_t pos = 0;
  for (;;) {
    const size_t eol = rest.find("\r\n", pos);
    if (eol == std::string::npos) throw std::runtime_error("chunk size line not ended");
    const size_t size = std::stoul(rest.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (size == 0) break;
    if (pos + size + 2 > rest.size()) throw std::runtime_error("chunk runs past the end");
    body.append(rest, pos, size);
    pos += size + 2;  // data and its CRLF
  }
  return body;
}

inline std::string capture_body(const std::string& name) {
  return http_body(read_file(std::string(LLMLOAD_CAPTURES_DIR) + "/" + name + ".response"));
}

inline std::string stream_fixture(const std::string& name) {
  return read_file(std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/streams/" + name);
}

// Calls check(feed_all) for: the whole input; every two-way split; one byte at a time.
// feed_all(feed) calls feed once per piece. Inputs longer than 2 * kFullSplitEdge bytes are
// split at every boundary within kFullSplitEdge bytes of either end and at every 127th boundary
// in between (the whole-input check stays linear enough for a 35 KB capture).
using Feeder = std::function<void(std::string_view)>;
inline constexpr size_t kFullSplitEdge = 1024;
inline void for_each_split(std::string_view input,
                           const std::function<void(const std::function<void(Feeder)>&)>& check) {
  check([&](Feeder feed) { feed(input); });
  const bool long_input = input.size() > 2 * kFullSplitEdge;
  for (size_t i = 1; i < input.size(); ++i) {
    if (long_input && i > kFullSplitEdge && i < input.size() - kFullSplitEdge && i % 127 != 0)
      continue;
    check([&](Feeder feed) {
      feed(input.substr(0, i));
      feed(input.substr(i));
    });
  }
  check([&](Feeder feed) {
    for (size_t i = 0; i < input.size(); ++i) feed(input.substr(i, 1));
  });
}

}  // namespace llmload::testutil
