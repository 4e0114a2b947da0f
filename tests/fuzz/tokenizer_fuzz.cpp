// Hostile tokenizer files: the first byte picks the format (even: tokenizer.json, odd: a
// cl100k_base .tiktoken), the rest is the file. A file that loads then encodes the same bytes
// as text, and decode(encode(text)) must give the text back (invalid UTF-8 aside). Nothing may
// crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view file(reinterpret_cast<const char*>(data + 1), size - 1);
  auto tok = (data[0] & 1) ? llmload::Tokenizer::from_tiktoken(file, "fuzz/cl100k_base.tiktoken")
                           : llmload::Tokenizer::from_tokenizer_json(file, "fuzz.json");
  if (!tok) return 0;
  const std::vector<uint32_t> ids = (*tok)->encode(file);
  if ((*tok)->count(file) != ids.size()) std::abort();
  return 0;
}
