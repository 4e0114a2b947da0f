#include "mock/metrics_page.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mock/mock_loop.h"

namespace llmload::mock {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, int64_t v) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(v) + "\n";
}

}  // namespace

Expected<std::unique_ptr<MetricsPage>> MetricsPage::create(
    const std::vector<std::unique_ptr<MockLoop>>& loops, const std::string& extra_file) {
  std::vector<std::string> pages;
  if (!extra_file.empty()) {
    std::ifstream in(extra_file, std::ios::binary);
    if (!in) return Error{"--metrics-extra: cannot read " + extra_file};
    std::string line, page;
    while (std::getline(in, line)) {
      if (line == kPageSeparator) {
        pages.push_back(std::move(page));
        page.clear();
        continue;
      }
      page += line + "\n";
    }
    pages.push_back(std::move(page));
  }
  return std::unique_ptr<MetricsPage>(new MetricsPage(loops, std::move(pages)));
}

std::string MetricsPage::render() const {
  int64_t prompt = 0, predicted = 0, processing = 0, deferred = 0;
  for (const auto& l : loops_) {
    LoopCounters& c = l->counters();
    prompt += int64_t(c.prompt_tokens.load(std::memory_order_relaxed));
    predicted += int64_t(c.tokens.load(std::memory_order_relaxed));
    processing += c.processing.load(std::memory_order_relaxed);
    deferred += c.deferred.load(std::memory_order_relaxed);
  }
  std::string out;
  metric(out, "llamacpp:prompt_tokens_total", "counter", "Number of prompt tokens processed.",
         prompt);
  metric(out, "llamacpp:tokens_predicted_total", "counter",
         "Number of generation tokens processed.", predicted);
  metric(out, "llamacpp:requests_processing", "gauge", "Number of requests processing.",
         processing);
  metric(out, "llamacpp:requests_deferred", "gauge", "Number of requests deferred.", deferred);
  if (!extra_.empty()) {
    const std::size_t n = served_.fetch_add(1, std::memory_order_relaxed);
    out += extra_[std::min(n, extra_.size() - 1)];
  }
  return out;
}

}  // namespace llmload::mock
