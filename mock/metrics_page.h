// The mock's GET /metrics: a Prometheus text page in llama.cpp's style (llama-server --metrics)
// from the server's real counters, summed over its loops, plus optional extra pages from a file
// (MockOptions::metrics_extra_file), so the scraper is tested against a page that moves.
//   llamacpp:prompt_tokens_total      counter  prompt tokens of the generation requests read
//   llamacpp:tokens_predicted_total   counter  output tokens sent
//   llamacpp:requests_processing      gauge    requests generating now
//   llamacpp:requests_deferred        gauge    requests waiting for a slot (--max-streams)
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"

namespace llmload::mock {

class MockLoop;

class MetricsPage {
 public:
  static constexpr const char* kPageSeparator = "# llmload-mock: next page";

  // Reads the extra pages from `extra_file` ("" for none); the error names the file.
  static Expected<std::unique_ptr<MetricsPage>> create(
      const std::vector<std::unique_ptr<MockLoop>>& loops, const std::string& extra_file);

  // The page for one GET (thread-safe: any loop may call it).
  std::string render() const;

 private:
  MetricsPage(const std::vector<std::unique_ptr<MockLoop>>& loops, std::vector<std::string> extra)
      : loops_(loops), extra_(std::move(extra)) {}
  const std::vector<std::unique_ptr<MockLoop>>& loops_;
  std::vector<std::string> extra_;
  mutable std::atomic<std::size_t> served_{0};
};

}  // namespace llmload::mock
