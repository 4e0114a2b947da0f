// The target's /metrics, scraped by the run's first worker (DESIGN.md "Data flow", docs/metrics.md
// "Target metrics"). A thread of its own does a blocking GET with a timeout every interval, so a
// slow or dead metrics endpoint never holds up the load loops or the control thread's
// heartbeat. The control thread takes the latest scrape with each interval REPORT.
//
//   TargetMetricsScraper s(url, wanted, interval_ns);  // the first scrape starts at once
//   auto t = s.take();        // with every interval: the latest scrape since the last take
//                             // (the first take: the first page, read before the load)
//   s.finish();               // once the load is over: one last scrape, then the thread ends
//   if (s.finished()) ...     // that scrape is in (bounded by the timeout); take() it
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.h"

namespace llmload::worker {

inline constexpr std::size_t kMaxMetricsPageBytes = 4 * 1024 * 1024;

// One blocking GET of an http:// URL (Connection: close), bounded by `timeout_ns` in all (name
// lookup aside) and by `max_bytes` of body. The body of a 200 answer, else an error saying why
// ("connect: Connection refused", "HTTP 404", "no answer within 2000 ms").
Expected<std::string> http_get(const std::string& url, int64_t timeout_ns, std::size_t max_bytes);

class TargetMetricsScraper {
 public:
  struct Scrape {
    std::map<std::string, double> values;  // the latest scrape's kept series (empty: none new)
    int64_t failed = 0;                    // scrapes that failed since the last take
    std::string error;                     // the last failure's reason
  };

  // `wanted`: Target::metrics (common/target_series.h: select_target_series).
  TargetMetricsScraper(std::string url, std::vector<std::string> wanted, int64_t interval_ns);
  ~TargetMetricsScraper();  // ends the thread (waits for a scrape in progress, bounded)
  TargetMetricsScraper(const TargetMetricsScraper&) = delete;
  TargetMetricsScraper& operator=(const TargetMetricsScraper&) = delete;

  Scrape take();
  void finish();  // idempotent; returns at once
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // Each scrape's timeout: the interval, at most 2 s.
  static int64_t timeout_for(int64_t interval_ns);

 private:
  void run();
  void scrape_once();

  const std::string url_;
  const std::vector<std::string> wanted_;
  const int64_t interval_ns_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool finish_ = false;
  Scrape pending_;
  bool baseline_taken_ = false;  // the first page read was taken
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace llmload::worker
