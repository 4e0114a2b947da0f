#include "worker/body_template.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/synthetic_text.h"

namespace llmload::worker {

namespace {

constexpr uint64_t kStreamLength = 0x6c656e677468ULL;
constexpr uint64_t kStreamMaxTokens = 0x6d6178746f6bULL;
constexpr uint64_t kStreamBlock = 0x626c6f636bULL;
constexpr int64_t kBlockTokens = 512;  // Mooncake: one hash id per 512-token block

void append_i64(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// The tag's tokens as it is written: after a space unless it starts the text.
int64_t tag_tokens(const Tokenizer* tok, const char* tag, size_t len, bool first) {
  if (tok == nullptr) return 2;  // "[request" and "<hex>]" as words
  char buf[kUniqueTagMax + 1];
  buf[0] = ' ';
  std::memcpy(buf + 1, tag, len);
  return int64_t(tok->count(std::string_view(first ? buf + 1 : buf, first ? len : len + 1)));
}

}  // namespace

void BodyWriter::append_text(std::string& out, const BodyFill& f) const {
  const SyntheticWords& table = words ? *words : SyntheticWords::standard();
  if (f.row != nullptr && f.trace != nullptr) {
    const TraceRow& row = *f.row;
    if (row.prompt >= 0) {
      out += f.trace->prompts_json[size_t(row.prompt)];
      return;
    }
    // Each hash id is one block, generated from (seed, id): rows sharing ids share the blocks
    // (a block cut short is a prefix of the whole one). Past the blocks: the request's own words.
    int64_t left = std::max<int64_t>(1, row.input_tokens);
    bool first = true;
    for (uint32_t i = 0; i < row.hash_count && left > 0; ++i) {
      const uint64_t id = f.trace->hash_ids[size_t(row.hash_begin) + i];
      const int64_t n = std::min(left, kBlockTokens);
      if (!first) out += ' ';
      append_synthetic_tokens(out, mix64(seed ^ kStreamBlock ^ mix64(id)), n, table);
      first = false;
      left -= n;
    }
    if (left > 0) {
      if (!first) out += ' ';
      append_synthetic_tokens(out, f.key, left, table);
    }
    return;
  }
  Rng rng(f.key ^ kStreamLength);
  const int64_t total = input_tokens.sample_int(rng, 1);
  bool first = true;
  if (!shared_prefix.empty()) {
    out += shared_prefix;
    first = false;
  }
  int64_t tag_count = 0;
  if (unique_prefix) {
    char tag[kUniqueTagMax];
    const size_t len = write_unique_tag(tag, f.tag_key);
    tag_count = tag_tokens(tokenizer.get(), tag, len, first);
    if (!first) out += ' ';
    out.append(tag, len);
    first = false;
  }
  if (!first) out += ' ';
  append_synthetic_tokens(out, f.key,
                          std::max<int64_t>(1, total - shared_prefix_tokens - tag_count), table);
}

int64_t BodyWriter::text_tokens(const BodyFill& f) const {
  if (f.row != nullptr) return f.row->prompt >= 0 ? -1 : std::max<int64_t>(1, f.row->input_tokens);
  Rng rng(f.key ^ kStreamLength);
  const int64_t total = input_tokens.sample_int(rng, 1);
  int64_t tag_count = 0;
  if (unique_prefix) {
    char tag[kUniqueTagMax];
    const size_t len = write_unique_tag(tag, f.tag_key);
    tag_count = tag_tokens(tokenizer.get(), tag, len, shared_prefix.empty());
  }
  return std::max(total, shared_prefix_tokens + tag_count + 1);
}

int64_t BodyWriter::max_tokens_of(const BodyFill& f) const {
  if (f.row != nullptr) return std::max<int64_t>(1, f.row->output_tokens);
  Rng rng(f.key ^ kStreamMaxTokens);
  return max_tokens ? max_tokens->sample_int(rng, 1) : 1;
}

Expected<BodyTemplate> BodyTemplate::make(const HttpRequest& built, bool max_tokens_hole) {
  BodyTemplate t;
  const std::string& bytes = built.bytes();
  const std::string_view head(bytes.data(), built.head_size());
  const size_t cl = head.rfind("Content-Length: ");
  if (cl == std::string_view::npos) return Error{"request template: no Content-Length"};
  t.head_ = std::string(head.substr(0, cl + 16));
  std::string_view body = std::string_view(bytes).substr(built.head_size());
  const std::string max_str = std::to_string(kMaxTokensSentinel);
  while (true) {
    // The earliest sentinel left in the body.
    size_t at = std::string_view::npos;
    size_t len = 0;
    Hole hole = Hole::kText;
    auto consider = [&](std::string_view s, Hole h) {
      const size_t p = body.find(s);
      if (p < at) {
        at = p;
        len = s.size();
        hole = h;
      }
    };
    consider(kTextSentinel, Hole::kText);
    consider(kTagSentinel, Hole::kTag);
    if (max_tokens_hole) consider(max_str, Hole::kMaxTokens);
    if (at == std::string_view::npos) break;
    t.literals_.emplace_back(body.substr(0, at));
    t.holes_.push_back(hole);
    body.remove_prefix(at + len);
  }
  if (t.holes_.empty()) return Error{"request template: the body has no hole"};
  t.literals_.emplace_back(body);
  return t;
}

void BodyTemplate::write(HttpRequest& out, std::string& scratch, const BodyWriter& w,
                         const BodyFill& f) const {
  scratch.clear();
  for (size_t i = 0; i < holes_.size(); ++i) {
    scratch += literals_[i];
    switch (holes_[i]) {
      case Hole::kText:
        w.append_text(scratch, f);
        break;
      case Hole::kTag: {
        char tag[kUniqueTagMax];
        scratch.append(tag, write_unique_tag(tag, f.tag_key));
        break;
      }
      case Hole::kMaxTokens:
        append_i64(scratch, w.max_tokens_of(f));
        break;
    }
  }
  scratch += literals_.back();
  out.assign_with_body(head_, scratch);
}

}  // namespace llmload::worker
