#include "worker/output_text.h"

#include "common/tokenizer.h"
#include "worker/json_scan.h"

namespace llmload::worker {

void OutputText::begin(const Tokenizer* tokenizer) {
  tokenizer_ = tokenizer;
  if (text_.capacity() > kKeepCapacity) std::string().swap(text_);
  restart();
}

void OutputText::restart() {
  text_.clear();
  keeping_ = tokenizer_ != nullptr;
  stop_ = Stop::kNone;
}

void OutputText::drop(Stop why) {
  keeping_ = false;
  stop_ = why;
  text_.clear();
}

void OutputText::keep(const ChunkInfo& chunk, const StreamState& state) {
  if (state.usage_completion_tokens >= 0) return drop(Stop::kUsage);
  if (!is_token_bearing(chunk.kind)) return;
  if (chunk.text_json.empty()) return drop(Stop::kNoText);
  // A chunk is at most the decoder's event limit, so the text passes the cap by at most that.
  if (!json_unescape(JsonSlice{JsonType::string, chunk.text_json}, text_)) {
    return drop(Stop::kNoText);
  }
  if (text_.size() > cap_) drop(Stop::kCap);
}

int64_t OutputText::count(const StreamState& state) const {
  if (!keeping_ || tokenizer_ == nullptr || state.usage_completion_tokens >= 0) return -1;
  return static_cast<int64_t>(tokenizer_->count(text_));
}

}  // namespace llmload::worker
