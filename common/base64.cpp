#include "common/base64.h"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

namespace llmload {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, -1 otherwise.
constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> r{};
  for (auto& v : r) v = -1;
  for (int i = 0; i < 64; ++i) r[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return r;
}
constexpr std::array<int8_t, 256> kReverse = make_reverse();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // + EVP_EncodeBlock's NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// OpenSSL decodes; the checks before it give the errors their offsets, and reject what
// EVP_DecodeBlock would let through (surrounding whitespace, non-zero trailing bits).
Expected<std::string> base64_decode(std::string_view text) {
  size_t len = text.size();
  // Strip up to two '=' of padding; the padded length must then be a multiple of 4.
  size_t padding = 0;
  while (padding < 2 && len > 0 && text[len - 1] == '=') {
    --len;
    ++padding;
  }
  if (padding > 0 && text.size() % 4 != 0)
    return Error{"base64: padded text length " + std::to_string(text.size()) +
                 " is not a multiple of 4"};
  if (len % 4 == 1)
    return Error{"base64: length " + std::to_string(len) + " cannot be base64 (truncated?)"};
  for (size_t i = 0; i < len; ++i) {
    if (kReverse[static_cast<uint8_t>(text[i])] < 0)
      return Error{"base64: invalid character at offset " + std::to_string(i) +
                   (text[i] == '=' ? " (padding in the middle)" : "")};
  }
  // The last character of a 2- or 3-character group carries 4 or 2 bits beyond the bytes.
  const size_t tail = len % 4;
  if (tail > 0) {
    const int unused_bits = tail == 2 ? 4 : 2;
    if ((kReverse[static_cast<uint8_t>(text[len - 1])] & ((1 << unused_bits) - 1)) != 0)
      return Error{"base64: non-zero trailing bits at offset " + std::to_string(len - 1)};
  }
  std::string padded(text.substr(0, len));
  if (tail > 0) padded.append(4 - tail, '=');
  std::string out(padded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(padded.data()),
                                static_cast<int>(padded.size()));
  if (n < 0) return Error{"base64: OpenSSL could not decode the text"};
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(len / 4 * 3 + (tail == 0 ? 0 : tail - 1));
  return out;
}

}  // namespace llmload
