// A growable byte buffer that is cleared and refilled, never shrunk: responses are formatted
// into a few of these per loop, so the per-token path allocates nothing once they are warm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace llmload::mock {

class OutBuffer {
 public:
  explicit OutBuffer(size_t initial = 4096) : data_(new char[initial]), cap_(initial) {}
  void clear() { size_ = 0; }
  const char* data() const { return data_.get(); }
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_.get(), size_}; }

  void append(std::string_view s) {
    if (s.empty()) return;  // an empty view may hold nullptr, which memcpy must not be given
    reserve_more(s.size());
    std::memcpy(data_.get() + size_, s.data(), s.size());
    size_ += s.size();
  }
  void append(const OutBuffer& o) { append(o.view()); }
  void push(char c) {
    reserve_more(1);
    data_[size_++] = c;
  }
  void append_fill(char c, size_t n) {
    reserve_more(n);
    std::memset(data_.get() + size_, c, n);
    size_ += n;
  }
  void append_u64(uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = char('0' + v % 10);
      v /= 10;
    } while (v);
    reserve_more(size_t(n));
    while (n) data_[size_++] = tmp[--n];
  }
  void append_i64(int64_t v) {
    if (v < 0) {
      push('-');
      append_u64(uint64_t(-(v + 1)) + 1);
    } else {
      append_u64(uint64_t(v));
    }
  }
  void append_hex(uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    char tmp[20];
    int n = 0;
    do {
      tmp[n++] = kHex[v & 15];
      v >>= 4;
    } while (v);
    reserve_more(size_t(n));
    while (n) data_[size_++] = tmp[--n];
  }
  // Fixed-point with `decimals` digits after the point (no exponent form).
  void append_fixed(double v, int decimals) {
    if (v < 0) {
      push('-');
      v = -v;
    }
    uint64_t scale = 1;
    for (int i = 0; i < decimals; ++i) scale *= 10;
    uint64_t whole = uint64_t(v * double(scale) + 0.5);
    append_u64(whole / scale);
    if (decimals > 0) {
      push('.');
      uint64_t frac = whole % scale;
      char tmp[20];
      for (int i = decimals - 1; i >= 0; --i) {
        tmp[i] = char('0' + frac % 10);
        frac /= 10;
      }
      append({tmp, size_t(decimals)});
    }
  }

 private:
  void reserve_more(size_t n) {
    if (size_ + n <= cap_) return;
    size_t cap = cap_ * 2;
    while (cap < size_ + n) cap *= 2;
    std::unique_ptr<char[]> d(new char[cap]);
    std::memcpy(d.get(), data_.get(), size_);
    data_ = std::move(d);
    cap_ = cap;
  }
  std::unique_ptr<char[]> data_;
  size_t cap_;
  size_t size_ = 0;
};

// Frames events as HTTP/1.1 chunks: a formatter writes one event into scratch() and calls
// end_event(); the chunk (hex size, CRLF, payload, CRLF) is appended to `out`.
class ChunkSink {
 public:
  ChunkSink(OutBuffer& out, OutBuffer& scratch) : out_(out), scratch_(scratch) {}
  OutBuffer& begin_event() {
    scratch_.clear();
    return scratch_;
  }
  void end_event() {
    if (scratch_.empty()) return;  // an empty chunk would end the body
    out_.append_hex(scratch_.size());
    out_.append("\r\n");
    out_.append(scratch_);
    out_.append("\r\n");
  }
  // The last chunk: ends the chunked body.
  void end_body() { out_.append("0\r\n\r\n"); }

 private:
  OutBuffer& out_;
  OutBuffer& scratch_;
};

}  // namespace llmload::mock
