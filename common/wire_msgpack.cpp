// The byte-level MessagePack helper of the wire protocol (common/wire.h): the structure check
// that runs before any body is decoded.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire.h"

namespace llmload::wire {

std::string check_msgpack(std::string_view bytes, std::size_t max_depth) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t pos = 0;
  // Items still expected at each open level (maps count keys and values).
  std::vector<uint64_t> pending;
  pending.push_back(1);
  auto need_bytes = [&](uint64_t k) { return k <= n - pos; };
  auto read_be = [&](int len) {
    uint64_t v = 0;
    for (int i = 0; i < len; ++i) v = (v << 8) | p[pos + i];
    pos += len;
    return v;
  };
  while (!pending.empty()) {
    if (pending.back() == 0) {
      pending.pop_back();
      continue;
    }
    --pending.back();
    if (pos >= n) return "truncated at byte " + std::to_string(pos);
    const unsigned char b = p[pos++];
    uint64_t skip = 0;      // payload bytes to skip
    uint64_t children = 0;  // nested items
    bool container = false;
    int lenlen = 0;  // bytes of a big-endian length that follows
    int mult = 1;    // children per counted entry (maps: 2)
    int extra = 0;   // fixed extra bytes (ext type byte)
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
      // fixint, nil, bool
    } else if (b >= 0x80 && b <= 0x8f) {
      container = true, children = uint64_t(b & 0x0f) * 2;
    } else if (b >= 0x90 && b <= 0x9f) {
      container = true, children = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      switch (b) {
        case 0xc4:
        case 0xd9:
          lenlen = 1;
          break;
        case 0xc5:
        case 0xda:
          lenlen = 2;
          break;
        case 0xc6:
        case 0xdb:
          lenlen = 4;
          break;
        case 0xc7:
          lenlen = 1, extra = 1;
          break;
        case 0xc8:
          lenlen = 2, extra = 1;
          break;
        case 0xc9:
          lenlen = 4, extra = 1;
          break;
        case 0xca:
          skip = 4;
          break;
        case 0xcb:
          skip = 8;
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xd4:
          skip = 2;
          break;
        case 0xd5:
          skip = 3;
          break;
        case 0xd6:
          skip = 5;
          break;
        case 0xd7:
          skip = 9;
          break;
        case 0xd8:
          skip = 17;
          break;
        case 0xdc:
          container = true, lenlen = 2;
          break;
        case 0xdd:
          container = true, lenlen = 4;
          break;
        case 0xde:
          container = true, lenlen = 2, mult = 2;
          break;
        case 0xdf:
          container = true, lenlen = 4, mult = 2;
          break;
        default:
          return "invalid byte 0x" + std::to_string(b) + " at " + std::to_string(pos - 1);
      }
    }
    if (lenlen > 0) {
      if (!need_bytes(lenlen)) return "truncated length at byte " + std::to_string(pos);
      uint64_t len = read_be(lenlen);
      if (container) {
        children = len * mult;
      } else {
        skip = len + extra;
      }
    }
    if (container) {
      // Every item takes at least one byte: a count beyond the bytes left is a lie.
      if (children > n - pos)
        return "container larger than the message at byte " + std::to_string(pos);
      if (children > 0) {
        if (pending.size() > max_depth) return "nested deeper than " + std::to_string(max_depth);
        pending.push_back(children);
      }
    } else {
      if (!need_bytes(skip)) return "truncated value at byte " + std::to_string(pos);
      pos += skip;
    }
  }
  if (pos != n) return "trailing bytes after the value at byte " + std::to_string(pos);
  return {};
}

}  // namespace llmload::wire
