// The BPE model over bytes, the byte-level map and the added-token matcher (tokenizer_bpe.h).
#include "common/tokenizer_bpe.h"

#include <algorithm>
#include <cstring>
#include <queue>

namespace llmload {

namespace {

uint64_t pair_key(uint32_t left, uint32_t right) {
  return (uint64_t{left} << 32) | right;
}

size_t hash_key(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return static_cast<size_t>(k);
}

// The code point of byte b in GPT-2's bytes_to_unicode(): printable Latin-1 stands for itself,
// the other 68 bytes take 256, 257, ... in byte order.
struct ByteMap {
  uint32_t to_char[256];
  int16_t from_char[324];  // code points 0..323; -1 = not a byte
  ByteMap() {
    std::fill(std::begin(from_char), std::end(from_char), int16_t{-1});
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_char[b] = printable ? b : next++;
      from_char[to_char[b]] = static_cast<int16_t>(b);
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_valid_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x3F >> (n - 1));
  for (size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

uint32_t byte_level_char(uint8_t byte) {
  return byte_map().to_char[byte];
}

bool byte_level_decode(std::string_view token, std::string& bytes) {
  bytes.clear();
  for (size_t i = 0; i < token.size();) {
    const size_t n = utf8_valid_at(token, i);
    if (n == 0) return false;
    uint32_t cp = static_cast<unsigned char>(token[i]) & (n == 1 ? 0x7F : (0x3F >> (n - 1)));
    for (size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(token[i + k]) & 0x3F);
    if (cp >= 324 || byte_map().from_char[cp] < 0) return false;
    bytes += static_cast<char>(byte_map().from_char[cp]);
    i += n;
  }
  return true;
}

bool utf8_sanitize(std::string_view text, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = utf8_valid_at(text, i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return false;
  out.assign(text.substr(0, i));
  while (i < text.size()) {
    const size_t n = utf8_valid_at(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return true;
}

// ---- BpeModel ----

std::string BpeModel::add_token(std::string_view bytes, uint32_t id, bool encodable) {
  if (id >= kTokenizerIdMax) return "id " + std::to_string(id) + " is over the limit 2^21";
  if (bytes.size() > kTokenizerTokenBytesMax)
    return "token of id " + std::to_string(id) + " is " + std::to_string(bytes.size()) +
           " bytes (limit 1024)";
  if (id >= spans_.size()) spans_.resize(size_t{id} + 1);
  if (spans_[id].set || late_.count(id)) return "id " + std::to_string(id) + " is given twice";
  if (finished_) {  // blob_ must not move now: by_bytes_ holds views into it
    if (encodable) return "token added after the vocabulary was finished";
    late_.emplace(id, std::string(bytes));
    return "";
  }
  if (blob_.size() + bytes.size() > kTokenizerFileMax) return "vocabulary over 64 MiB";
  spans_[id] = {static_cast<uint32_t>(blob_.size()), static_cast<uint32_t>(bytes.size()), true};
  if (encodable) pending_.emplace_back(id, static_cast<uint32_t>(blob_.size()));
  blob_.append(bytes);
  return "";
}

std::string BpeModel::finish() {
  // blob_ no longer grows: map the views now.
  finished_ = true;
  by_bytes_.reserve(pending_.size());
  for (const auto& [id, offset] : pending_) by_bytes_.emplace(bytes_of(id), id);
  pending_.clear();
  pending_.shrink_to_fit();
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const int64_t id = find(std::string_view(&c, 1));
    if (id < 0) return "no token for byte " + std::to_string(b);
    byte_id_[b] = static_cast<uint32_t>(id);
  }
  return "";
}

int64_t BpeModel::find(std::string_view bytes) const {
  auto it = by_bytes_.find(bytes);
  return it == by_bytes_.end() ? -1 : int64_t{it->second};
}

std::string_view BpeModel::bytes_of(uint32_t id) const {
  if (id >= spans_.size()) return {};
  if (!spans_[id].set) {
    auto it = late_.find(id);
    return it == late_.end() ? std::string_view() : std::string_view(it->second);
  }
  return std::string_view(blob_).substr(spans_[id].offset, spans_[id].length);
}

void BpeModel::grow_merges() {
  std::vector<MergeSlot> old = std::move(merges_);
  merges_.assign(old.empty() ? 1024 : old.size() * 2, MergeSlot{});
  const size_t mask = merges_.size() - 1;
  for (const MergeSlot& s : old) {
    if (s.key == ~uint64_t{0}) continue;
    size_t i = hash_key(s.key) & mask;
    while (merges_[i].key != ~uint64_t{0}) i = (i + 1) & mask;
    merges_[i] = s;
  }
}

void BpeModel::add_merge(uint32_t left, uint32_t right, uint32_t rank, uint32_t result) {
  if ((merge_count_ + 1) * 2 > merges_.size()) grow_merges();
  const uint64_t key = pair_key(left, right);
  const size_t mask = merges_.size() - 1;
  size_t i = hash_key(key) & mask;
  while (merges_[i].key != ~uint64_t{0}) {
    if (merges_[i].key == key) {
      if (rank < merges_[i].rank) merges_[i] = {key, rank, result};
      return;
    }
    i = (i + 1) & mask;
  }
  merges_[i] = {key, rank, result};
  ++merge_count_;
}

const BpeModel::MergeSlot* BpeModel::find_merge(uint32_t left, uint32_t right) const {
  if (merges_.empty()) return nullptr;
  const uint64_t key = pair_key(left, right);
  const size_t mask = merges_.size() - 1;
  for (size_t i = hash_key(key) & mask;; i = (i + 1) & mask) {
    if (merges_[i].key == key) return &merges_[i];
    if (merges_[i].key == ~uint64_t{0}) return nullptr;
  }
}

void BpeModel::derive_merges_from_ranks() {
  for (uint32_t id = 0; id < spans_.size(); ++id) {
    const std::string_view t = bytes_of(id);
    if (t.size() < 2 || find(t) != int64_t{id}) continue;  // decode-only or a duplicate
    for (size_t k = 1; k < t.size(); ++k) {
      const int64_t l = find(t.substr(0, k));
      const int64_t r = find(t.substr(k));
      if (l >= 0 && r >= 0) add_merge(static_cast<uint32_t>(l), static_cast<uint32_t>(r), id, id);
    }
  }
}

void BpeModel::encode_piece(std::string_view piece, std::vector<uint32_t>& out) const {
  const size_t n = piece.size();
  if (n == 1) {
    out.push_back(byte_id_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  // Symbols as a linked list over byte positions; a min-heap of candidate merges keyed by
  // (rank, start) gives the lowest rank, leftmost first. A popped candidate is stale when
  // either side has changed since it was pushed.
  struct Sym {
    uint32_t id;
    int32_t prev;
    int32_t next;  // -1 = none
  };
  struct Cand {
    uint32_t rank;
    int32_t start;
    uint32_t left, right, result;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : start > o.start; }
  };
  std::vector<Sym> sym(n);
  for (size_t i = 0; i < n; ++i)
    sym[i] = {byte_id_[static_cast<unsigned char>(piece[i])], static_cast<int32_t>(i) - 1,
              i + 1 < n ? static_cast<int32_t>(i + 1) : -1};
  std::vector<Cand> heap_store;
  heap_store.reserve(n);
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap(std::greater<Cand>{},
                                                                        std::move(heap_store));
  auto push = [&](int32_t i) {
    if (i < 0 || sym[i].next < 0) return;
    const MergeSlot* m = find_merge(sym[i].id, sym[sym[i].next].id);
    if (m) heap.push({m->rank, i, sym[i].id, sym[sym[i].next].id, m->result});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    Sym& a = sym[c.start];
    if (a.id != c.left || a.next < 0 || sym[a.next].id != c.right) continue;
    // The right symbol might have been replaced by another with the same id since: still the
    // same pair, so merging it is right.
    const int32_t b = a.next;
    a.id = c.result;
    a.next = sym[b].next;
    if (a.next >= 0) sym[a.next].prev = c.start;
    sym[b].id = UINT32_MAX;  // dead
    push(a.prev);
    push(c.start);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

// ---- AddedTokens ----

void AddedTokens::add(Token t) {
  if (t.content.empty()) return;
  const auto first = static_cast<unsigned char>(t.content[0]);
  tokens_.push_back(std::move(t));
  by_first_byte_[first].push_back(static_cast<uint32_t>(tokens_.size() - 1));
  // Longest first, so the first that matches at a position is the longest.
  std::sort(by_first_byte_[first].begin(), by_first_byte_[first].end(),
            [&](uint32_t x, uint32_t y) {
              return tokens_[x].content.size() > tokens_[y].content.size();
            });
}

bool AddedTokens::find(std::string_view text, size_t from, size_t& start, size_t& end,
                       uint32_t& id) const {
  for (size_t i = from; i < text.size(); ++i) {
    const auto& cands = by_first_byte_[static_cast<unsigned char>(text[i])];
    for (uint32_t k : cands) {
      const Token& t = tokens_[k];
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      start = i;
      end = i + t.content.size();
      auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
      if (t.lstrip)
        while (start > from && space(text[start - 1])) --start;
      if (t.rstrip)
        while (end < text.size() && space(text[end])) ++end;
      id = t.id;
      return true;
    }
  }
  return false;
}

}  // namespace llmload
