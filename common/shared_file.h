// SharedFile: a file the coordinator checked that every worker reads again from the same path
// (DESIGN.md "Prompts on the worker"): a prompt dataset (prompts.file), a trace
// (load.trace.file), a tokenizer (prompts.tokenizer). RUN carries each one's path, size and
// SHA-256; a worker whose copy is missing or differs refuses the run in its pre-flight with an
// error naming the field, the file and what differs, so a stale NFS copy or a ConfigMap of
// another version never sends other prompts than the coordinator checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/scenario.h"

namespace llmload {

// The largest file a worker reads from a shared path (a dataset is held in memory once per
// worker process, as its request bytes).
inline constexpr int64_t kSharedFileMaxBytes = int64_t{1} << 30;  // 1 GiB

struct SharedFile {
  std::string field;   // the scenario field naming it: "prompts.file", "load.trace.file", ...
  std::string path;    // as the scenario gives it (absolute after loading)
  int64_t size = 0;    // bytes
  std::string sha256;  // lowercase hex, 64 characters
  bool operator==(const SharedFile&) const = default;
};

// Reads `path` whole (streaming) and describes it. Errors: cannot open, larger than
// `max_bytes`, a read error; each names `field` and the path.
Expected<SharedFile> describe_shared_file(const std::string& field, const std::string& path,
                                          int64_t max_bytes = kSharedFileMaxBytes);

// The worker's check: nullopt when the file at f.path has f.size bytes and f.sha256; else the
// error, e.g. "prompts.file /data/p.jsonl: size differs: 120 bytes on this worker, 118 at the
// coordinator (the path must hold the same file on every machine)".
std::optional<std::string> check_shared_file(const SharedFile& f,
                                             int64_t max_bytes = kSharedFileMaxBytes);

// The files of `s` that workers read from a shared path, described now: the dataset when the
// prompts are read on the worker (prompts_read_on_worker), load.trace.file, prompts.tokenizer.
Expected<std::vector<SharedFile>> shared_files(const Scenario& s);

// Prompts read on the worker: a JSONL, ShareGPT or conversations file (prompts.file). RUN then
// carries no prompt list; each worker loads the whole dataset (run_prompts()) and its loops take
// entries by request number (dataset_entry()).
bool prompts_read_on_worker(const Scenario& s);

}  // namespace llmload
