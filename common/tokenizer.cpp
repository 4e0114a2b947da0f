// Tokenizer: reading the file, the encode pipeline (added tokens -> pre-tokenizer -> BPE) and
// the per-process cache (tokenizer.h). The two file formats are read in tokenizer_json.cpp and
// tokenizer_tiktoken.cpp.
#include "common/tokenizer.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "common/tokenizer_bpe.h"
#include "common/tokenizer_builder.h"

namespace llmload {

Tokenizer::Tokenizer()
    : model_(std::make_unique<BpeModel>()),
      pre_(std::make_unique<PreTokenizer>()),
      added_(std::make_unique<AddedTokens>()) {}

Tokenizer::~Tokenizer() = default;

size_t Tokenizer::vocab_size() const {
  return model_->id_limit();
}

template <class Sink>
void Tokenizer::run(std::string_view text, Sink&& sink) const {
  std::string clean;
  if (utf8_sanitize(text, clean)) text = clean;
  std::vector<uint32_t> scratch;
  auto piece = [&](std::string_view p) {
    if (p.empty()) return;
    if (whole_word_lookup_) {
      const int64_t id = model_->find(p);
      if (id >= 0) {
        sink(static_cast<uint32_t>(id));
        return;
      }
    }
    scratch.clear();
    model_->encode_piece(p, scratch);
    for (uint32_t id : scratch) sink(id);
  };
  auto text_part = [&](std::string_view part) { pre_->run(part, piece); };
  if (added_->empty())
    text_part(text);
  else
    added_->split(text, text_part, [&](uint32_t id) { sink(id); });
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  run(text, [&](uint32_t id) { ids.push_back(id); });
  return ids;
}

size_t Tokenizer::count(std::string_view text) const {
  size_t n = 0;
  run(text, [&](uint32_t) { ++n; });
  return n;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids) const {
  std::string out;
  for (uint32_t id : ids) out.append(model_->bytes_of(id));
  return out;
}

Expected<std::shared_ptr<const Tokenizer>> Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"tokenizer: cannot read '" + path + "'"};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return Error{"tokenizer: cannot read '" + path + "'"};
  if (static_cast<uint64_t>(size) > kTokenizerFileMax)
    return Error{"tokenizer: '" + path + "' is " + std::to_string(size) +
                 " bytes, over the 64 MiB limit"};
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) return Error{"tokenizer: cannot read '" + path + "'"};
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') return from_tokenizer_json(text, path);
  return from_tiktoken(text, path);
}

Expected<std::shared_ptr<const Tokenizer>> shared_tokenizer(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(path);
  if (it != cache.end()) return it->second;
  auto t = Tokenizer::load(path);
  if (!t) return Error{t.error()};
  cache.emplace(path, *t);
  return *t;
}

}  // namespace llmload
