// Sampling the prompts a run needs, synthetic prompt generation, and the prompt helpers the
// API adapters use (scenario.h).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "common/prompts.h"
#include "common/shared_file.h"
#include "common/synthetic_text.h"
#include "common/token_words.h"

namespace llmload {

namespace {

// Seeds of independent streams derived from the run's seed, so that, e.g., drawing max_tokens
// never changes which prompts are chosen.
constexpr uint64_t kStreamIndices = 0x70726f6d7074ULL;
constexpr uint64_t kStreamLengths = 0x6c656e677468ULL;
constexpr uint64_t kStreamMaxTokens = 0x6d6178746f6bULL;
constexpr uint64_t kStreamPrefix = 0x707265666978ULL;  // also the worker's (run_plan.cpp)
constexpr uint64_t kStreamUnique = 0x756e69717565ULL;


std::string unique_tag(int64_t index, Rng& rng) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[request %lld %08llx]", static_cast<long long>(index),
                static_cast<unsigned long long>(rng.next() & 0xffffffffULL));
  return buf;
}

void prepend(std::string& s, const std::string& prefix) {
  if (!prefix.empty()) s = s.empty() ? prefix : prefix + " " + s;
}

// A dataset entry as a prompt: `index` its position in the run's list, `source` its entry.
// unique_prefix: the worker puts a tag before each request's prompt as it writes the body
// (worker/body_template.h), so no two requests share a prefix however many reuse one entry.
ResolvedPrompt entry_prompt(const Scenario& s, const InlinePrompt& e, int64_t index,
                            int64_t source) {
  ResolvedPrompt p;
  p.index = index;
  p.source_index = source;
  p.system = s.prompts.system;
  p.max_tokens = e.max_tokens;
  p.labels = grouped_row_labels(s, e.labels);
  if (!e.turns.empty()) {
    p.turns = e.turns;
    if (!e.text.empty()) p.system = e.text;  // the conversation's own system prompt
  } else if (!e.messages.empty()) {
    p.messages = e.messages;
  } else {
    p.text = e.text;
  }
  return p;
}

// The lengths a run's prompts need: input_tokens_estimate, and max_tokens drawn from
// output.max_tokens where the entry gives none.
Expected<bool> finish_prompts(const Scenario& s, std::vector<ResolvedPrompt>& out, uint64_t seed) {
  std::shared_ptr<const Tokenizer> tok;
  if (!s.prompts.tokenizer.empty()) {
    auto t = shared_tokenizer(s.prompts.tokenizer);
    if (!t) return Error{"prompts.tokenizer: " + t.error()};
    tok = *t;
  }
  Rng max_rng(seed ^ kStreamMaxTokens);
  for (ResolvedPrompt& p : out) {
    p.input_tokens_estimate = prompt_tokens(p, tok.get());
    if (!p.max_tokens && s.output.max_tokens)
      p.max_tokens = s.output.max_tokens->sample_int(max_rng, 1);
  }
  return true;
}

// A keyed permutation of [0, n): a 4-round Feistel network over the smallest even number of
// bits covering n, walking the cycle until the value falls in range (fewer than 4 steps on
// average: the domain is below 4n). No table: any loop computes any position on its own.
uint64_t permute(uint64_t x, uint64_t n, uint64_t key) {
  int bits = 2;
  while ((uint64_t{1} << bits) < n) bits += 2;
  const int half = bits / 2;
  const uint64_t mask = (uint64_t{1} << half) - 1;
  do {
    uint64_t l = x >> half, r = x & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = mix64(key ^ (round << 56) ^ r) & mask;
      const uint64_t nl = r;
      r = l ^ f;
      l = nl;
    }
    x = (l << half) | r;
  } while (x >= n);
  return x;
}

}  // namespace

int64_t estimate_tokens(std::string_view text) {
  int64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

const std::vector<std::string_view>& synthetic_vocabulary() {
  static const std::vector<std::string_view> v(synthetic_word_list().begin(),
                                               synthetic_word_list().end());
  return v;
}

std::string synthetic_words(Rng& rng, int64_t words) {
  std::string out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(words, 0)) * 7);
  for (int64_t i = 0; i < words; ++i) {
    if (i > 0) out += ' ';
    out += synthetic_word_list()[rng.below(synthetic_word_list().size())];
  }
  return out;
}

std::vector<size_t> sample_indices(Sampling mode, size_t entries, size_t count, uint64_t seed) {
  std::vector<size_t> out;
  if (entries == 0) return out;
  out.reserve(count);
  Rng rng(seed ^ kStreamIndices);
  switch (mode) {
    case Sampling::kRandom:
      for (size_t i = 0; i < count; ++i) out.push_back(rng.below(entries));
      break;
    case Sampling::kSequential:
      for (size_t i = 0; i < count; ++i) out.push_back(i % entries);
      break;
    case Sampling::kShuffle: {
      std::vector<size_t> deck(entries);
      while (out.size() < count) {
        for (size_t i = 0; i < entries; ++i) deck[i] = i;
        for (size_t i = entries; i > 1; --i) std::swap(deck[i - 1], deck[rng.below(i)]);
        for (size_t i = 0; i < entries && out.size() < count; ++i) out.push_back(deck[i]);
      }
      break;
    }
  }
  return out;
}

Expected<std::vector<ResolvedPrompt>> sample_prompts(const Scenario& s, size_t count,
                                                     uint64_t seed) {
  const PromptSource& src = s.prompts;
  std::vector<ResolvedPrompt> out;
  out.reserve(count);
  Rng max_rng(seed ^ kStreamMaxTokens);
  Rng unique_rng(seed ^ kStreamUnique);
  // prompts.tokenizer: lengths in that tokenizer's tokens (loaded once per process).
  std::shared_ptr<const Tokenizer> tok;
  if (!src.tokenizer.empty()) {
    auto t = shared_tokenizer(src.tokenizer);
    if (!t) return Error{"prompts.tokenizer: " + t.error()};
    tok = *t;
  }
  if (src.kind == PromptSourceKind::kSynthetic) {
    // The run writes synthetic prompts on the worker (worker/body_template.h); these are the
    // same shape (shared prefix, tag, own words), for validate and the run's placeholder. With
    // a tokenizer the words are one token each (common/token_words.h), the tag counted.
    std::shared_ptr<const SyntheticWords> words;
    if (tok) {
      auto w = single_token_words(tok, src.tokenizer);
      if (!w) return Error{"prompts.tokenizer: " + w.error()};
      words = *w;
    }
    const SyntheticWords& table = words ? *words : SyntheticWords::standard();
    Rng len_rng(seed ^ kStreamLengths);
    std::string shared;
    append_synthetic_tokens(shared, mix64(seed ^ kStreamPrefix), src.shared_prefix_tokens, table);
    for (size_t i = 0; i < count; ++i) {
      ResolvedPrompt p;
      p.index = static_cast<int64_t>(i);
      p.source_index = p.index;
      p.system = src.system;
      // input_tokens is the whole prompt: shared prefix and unique tag included (≥ 1 own word).
      const int64_t total = src.input_tokens.sample_int(len_rng, 1);
      std::string tag = src.unique_prefix ? unique_tag(p.index, unique_rng) : "";
      int64_t tag_tokens = estimate_tokens(tag);
      if (tok && !tag.empty())
        tag_tokens = int64_t(tok->count(shared.empty() ? tag : " " + tag));
      const int64_t own = std::max<int64_t>(1, total - src.shared_prefix_tokens - tag_tokens);
      append_synthetic_tokens(p.text, len_rng.next(), own, table);
      prepend(p.text, tag);
      prepend(p.text, shared);
      out.push_back(std::move(p));
    }
  } else {
    auto entries = load_prompt_entries(src);
    if (!entries) return Error{entries.error()};
    if (entries->empty()) return Error{"prompts: the source has no prompts"};
    const std::vector<size_t> order = sample_indices(src.sampling, entries->size(), count, seed);
    for (size_t i = 0; i < order.size(); ++i)
      out.push_back(entry_prompt(s, (*entries)[order[i]], int64_t(i), int64_t(order[i])));
  }
  for (ResolvedPrompt& p : out) {
    p.input_tokens_estimate = prompt_tokens(p, tok.get());
    if (!p.max_tokens && s.output.max_tokens)
      p.max_tokens = s.output.max_tokens->sample_int(max_rng, 1);
  }
  return out;
}

Expected<std::vector<ResolvedPrompt>> dataset_prompts(const Scenario& s) {
  // Bounded before it is parsed: every worker holds the whole dataset.
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(s.prompts.file, ec);
  if (!ec && bytes > uint64_t(kSharedFileMaxBytes))
    return Error{"prompts.file " + s.prompts.file + ": " + std::to_string(bytes >> 20) +
                 " MiB, larger than the " + std::to_string(kSharedFileMaxBytes >> 20) +
                 " MiB a worker reads from a shared path"};
  auto entries = load_prompt_entries(s.prompts);
  if (!entries) return Error{entries.error()};
  if (entries->empty()) return Error{"prompts: the source has no prompts"};
  std::vector<ResolvedPrompt> out;
  out.reserve(entries->size());
  for (size_t i = 0; i < entries->size(); ++i) {
    out.push_back(entry_prompt(s, (*entries)[i], int64_t(i), int64_t(i)));
    (*entries)[i] = InlinePrompt{};  // the text moves on: the dataset is held once
  }
  if (auto done = finish_prompts(s, out, s.seed); !done) return Error{done.error()};
  return out;
}

int64_t dataset_entry(Sampling mode, int64_t entries, int64_t number, uint64_t seed) {
  if (entries <= 0) return 0;
  const auto n = uint64_t(entries);
  const auto k = uint64_t(number);
  switch (mode) {
    case Sampling::kSequential:
      return int64_t(k % n);
    case Sampling::kShuffle:
      // Pass k / n is its own permutation of the whole dataset.
      return int64_t(permute(k % n, n, mix64(seed ^ kStreamIndices ^ mix64(k / n))));
    case Sampling::kRandom:
      break;
  }
  return int64_t(mix64(mix64(seed ^ kStreamIndices) ^ k) % n);
}

Expected<std::vector<ResolvedPrompt>> run_prompts(const Scenario& s) {
  if (prompts_read_on_worker(s)) return dataset_prompts(s);
  return sample_prompts(s, prompt_count_for_run(s), s.seed);
}

void drop_prompt_text(std::vector<ResolvedPrompt>& prompts) {
  for (ResolvedPrompt& p : prompts) {
    std::string().swap(p.text);
    std::string().swap(p.system);
    std::vector<Message>().swap(p.messages);
    for (Turn& t : p.turns) {
      std::string().swap(t.user);
      std::string().swap(t.recorded_reply);
    }
  }
  release_free_memory();
}

void release_free_memory() {
#ifdef __GLIBC__
  // Thousands of small freed strings stay in the heap (and in RSS) until trimmed.
  malloc_trim(0);
#endif
}

bool prompts_written_on_worker(const Scenario& s) {
  return s.load.trace || s.prompts.kind == PromptSourceKind::kSynthetic;
}

size_t prompt_count_for_run(const Scenario& s) {
  // Synthetic and trace prompts are written on the worker, per request (worker/body_template.h):
  // the run ships one placeholder.
  if (prompts_written_on_worker(s)) return 1;
  if (s.load.requests > 0) {
    const size_t warmup_room = s.load.warmup_ns > 0 ? 256 : 0;
    return std::min(kRunPromptsMax, static_cast<size_t>(s.load.requests) + warmup_room);
  }
  return kRunPromptsMax;
}

size_t prompt_bytes(const ResolvedPrompt& p) {
  size_t n = p.system.size() + p.text.size();
  for (const Message& m : p.messages) n += m.role.size() + m.content.size();
  for (const auto& t : p.turns) n += t.user.size() + t.recorded_reply.size();
  return n;
}

size_t prompts_that_fit(const std::vector<ResolvedPrompt>& prompts, size_t max_count,
                        size_t max_bytes) {
  size_t bytes = 0;
  size_t n = 0;
  for (; n < prompts.size() && n < max_count; ++n) {
    bytes += prompt_bytes(prompts[n]);
    if (bytes > max_bytes && n > 0) break;
  }
  return n;
}

PromptLengthStats prompt_length_stats(const std::vector<ResolvedPrompt>& prompts) {
  PromptLengthStats st;
  st.count = prompts.size();
  if (prompts.empty()) return st;
  std::vector<int64_t> v;
  v.reserve(prompts.size());
  double sum = 0;
  for (const ResolvedPrompt& p : prompts) {
    v.push_back(p.input_tokens_estimate);
    sum += double(p.input_tokens_estimate);
  }
  std::sort(v.begin(), v.end());
  // Nearest-rank percentiles.
  auto pct = [&](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * double(v.size())));
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
  };
  st.mean = sum / double(v.size());
  st.min = v.front();
  st.p50 = pct(0.50);
  st.p90 = pct(0.90);
  st.max = v.back();
  return st;
}

std::string prompt_text(const ResolvedPrompt& p) {
  std::string out = p.system;
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += "\n\n";
    out += s;
  };
  if (!p.turns.empty()) {
    add(p.turns.front().user);
  } else if (!p.messages.empty()) {
    for (const Message& m : p.messages) add(m.content);
  } else {
    add(p.text);
  }
  return out;
}

std::vector<Message> prompt_messages(const ResolvedPrompt& p) {
  if (!p.turns.empty()) return conversation_messages(p, 0, nullptr);
  std::vector<Message> out;
  if (!p.system.empty()) out.push_back({"system", p.system});
  if (!p.messages.empty())
    out.insert(out.end(), p.messages.begin(), p.messages.end());
  else
    out.push_back({"user", p.text});
  return out;
}

std::vector<Message> conversation_messages(const ResolvedPrompt& p, size_t turn,
                                           const std::vector<std::string>* live_replies) {
  std::vector<Message> out;
  if (!p.system.empty()) out.push_back({"system", p.system});
  for (size_t k = 0; k < turn && k < p.turns.size(); ++k) {
    out.push_back({"user", p.turns[k].user});
    const bool live = live_replies != nullptr && k < live_replies->size();
    out.push_back({"assistant", live ? (*live_replies)[k] : p.turns[k].recorded_reply});
  }
  if (turn < p.turns.size()) out.push_back({"user", p.turns[turn].user});
  return out;
}

}  // namespace llmload
