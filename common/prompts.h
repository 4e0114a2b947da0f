// Prompt sources: reading the datasets a scenario names, generating synthetic prompts, and
// sampling the prompts a run needs (sample_prompts() in scenario.h is the entry point; this
// header exposes the pieces for validate and tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/scenario.h"
#include "common/tokenizer.h"

namespace llmload {

// The entries of a non-synthetic source in dataset order: the inline items, or the file read
// and checked (JSONL, ShareGPT, conversations), `limit` applied. Errors name the file and the
// line (JSONL) or entry (ShareGPT) at fault. A synthetic source has no entries.
Expected<std::vector<InlinePrompt>> load_prompt_entries(const PromptSource& src);

// Length statistics of a set of prompts (input_tokens_estimate), for validate.
struct PromptLengthStats {
  size_t count = 0;
  double mean = 0;
  int64_t min = 0;
  int64_t p50 = 0;
  int64_t p90 = 0;
  int64_t max = 0;
};
PromptLengthStats prompt_length_stats(const std::vector<ResolvedPrompt>& prompts);

// The order in which dataset entries are used by `count` requests: indices into the entries,
// per the sampling mode (random: with replacement; shuffle: without replacement, reshuffled
// each pass; sequential: in order, wrapping).
std::vector<size_t> sample_indices(Sampling mode, size_t entries, size_t count, uint64_t seed);

// Every entry of a dataset file in dataset order (prompt and source_index = the entry's
// 0-based position), with max_tokens drawn per entry from output.max_tokens as sample_prompts
// draws it. What a worker loads when the prompts are read on the worker
// (prompts_read_on_worker() in common/shared_file.h); the coordinator loads the same to check
// the file and declare the result groups.
Expected<std::vector<ResolvedPrompt>> dataset_prompts(const Scenario& s);

// The dataset entry request number `number` (0-based, over the whole run) sends, without any
// table: sequential: number mod entries; shuffle: a keyed permutation of the dataset per pass
// (number / entries), so numbers 0 .. entries-1 are every entry once; random: a hash of the
// number (with replacement).
int64_t dataset_entry(Sampling mode, int64_t entries, int64_t number, uint64_t seed);

// The prompts a run starts from: the whole dataset when it is read on the worker, else the
// sampled list RUN ships (sample_prompts with prompt_count_for_run).
Expected<std::vector<ResolvedPrompt>> run_prompts(const Scenario& s);

// What the coordinator keeps of a dataset the workers read themselves, once it is checked: each
// entry's labels, turn count, max_tokens and length estimate (for the result groups), not its
// text, so the dataset is not held twice in a process that is coordinator and worker in one.
void drop_prompt_text(std::vector<ResolvedPrompt>& prompts);
// Gives the heap's free pages back to the system (glibc's malloc_trim; elsewhere nothing): after
// a dataset's text is released, so RSS shows what the process holds.
void release_free_memory();

// A run's prompt list (inline prompts, synthetic prompts with a tokenizer; never a dataset file,
// which the workers read themselves) travels inside the RUN message (DESIGN.md "Wire
// protocol"), so it is bounded however many requests the run makes: at most kRunPromptsMax prompts
// and kRunPromptBytesMax bytes of prompt text. Workers cycle through the list in its (sampled)
// order; a run needing fewer prompts ships exactly those, and an inline list with fewer entries
// than the cap is shipped whole (sequential and shuffle sampling visit every entry first). (Sized
// so a worker decodes the list well within the start delay, even in a Debug build.)
inline constexpr size_t kRunPromptsMax = 2048;
inline constexpr size_t kRunPromptBytesMax = size_t{4} << 20;

// The bytes of text a prompt carries (system, text, messages, turns with recorded replies).
size_t prompt_bytes(const ResolvedPrompt& p);
// How many of `prompts`, from the first, fit within both caps (at least 1 of a non-empty list,
// so a single oversized prompt is still shipped).
size_t prompts_that_fit(const std::vector<ResolvedPrompt>& prompts, size_t max_count,
                        size_t max_bytes);

// A synthetic prompt of `words` words (≈ tokens) drawn from a fixed vocabulary.
std::string synthetic_words(Rng& rng, int64_t words);
// The fixed vocabulary synthetic prompts draw from.
const std::vector<std::string_view>& synthetic_vocabulary();

// Tokens of everything a prompt sends, as input_tokens_estimate counts it (words without a
// tokenizer).
int64_t prompt_tokens(const ResolvedPrompt& p, const Tokenizer* tok);

}  // namespace llmload
