// `llmload sweep` against `llmload mock` with a capacity limit: the search must find the knee
// the mock was configured with (DESIGN.md "Capacity planning"; issue: gates, sweep, merge).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/mock_test_util.h"

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// With --max-streams 4 the mock generates 4 streams at once and queues the rest: up to
// concurrency 4 TTFT stays near 20 ms; from 5 on a queued request waits a whole response
// (~20 ms + 10 × 5 ms) first, so its TTFT passes 60 ms and the p99 assertion fails.
TEST(Sweep, SearchFindsTheMocksCapacityKnee) {
  mocktest::MockProcess mock(
      {"--max-streams", "4", "--over-capacity", "queue", "--ttft", "20ms", "--itl", "5ms"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines() << mock.stderr_text();
  fs::path dir = fs::path(::testing::TempDir()) / "llmload_sweep_knee";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "sweep.yaml") << "name: knee\n"
                                       "target:\n  url: "
                                    << mock.url()
                                    << "\n"
                                       "  api: openai-chat\n  model: m\n"
                                       "load:\n  concurrency: 1\n  requests: 40\n  grace: 5s\n"
                                       "prompts:\n  source: synthetic\n"
                                       "  input_tokens: {dist: fixed, value: 16}\n"
                                       "output:\n  max_tokens: 10\n";
  std::string cmd = std::string(LLMLOAD_BINARY) + " sweep " + (dir / "sweep.yaml").string() +
                    " --search --max 16 --assert 'ttft.p99 < 60ms' --out " +
                    (dir / "out").string() + " --quiet --no-report > " + (dir / "log").string() +
                    " 2>&1";
  int rc = std::system(cmd.c_str());
  std::string log = slurp(dir / "log");
  ASSERT_TRUE(WIFEXITED(rc)) << log;
  EXPECT_EQ(WEXITSTATUS(rc), 0) << log;
  // Throughput grows up to the mock's 4 streams: the capacity is also the highest passing level.
  EXPECT_NE(log.find("answer: concurrency 4 is the capacity"), std::string::npos) << log;
  EXPECT_NE(log.find("highest passing level: concurrency 4 (the capacity)"), std::string::npos)
      << log;
  std::string csv = slurp(dir / "out" / "sweep.csv");
  EXPECT_NE(csv.find("\n4,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n5,"), std::string::npos) << csv;  // bisected down to the first failure
  EXPECT_NE(csv.find(",true,pass,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",false,fail,"), std::string::npos) << csv;
  // Each step has its own results directory with a summary.
  int steps = 0;
  for (const auto& e : fs::directory_iterator(dir / "out"))
    if (e.is_directory()) {
      ++steps;
      EXPECT_TRUE(fs::exists(e.path() / "summary.json")) << e.path();
    }
  EXPECT_GE(steps, 5);
}

// A server whose throughput falls past a knee (issue 18 point 2): with --contention-streams 2
// --contention-itl 10ms each stream beyond two adds 10 ms to every token gap of a starting
// request, so at concurrency c a 10-token response takes about 20 + 9 × (5 + 10 × (c − 2)) ms:
// ~31 req/s at 2, ~16 req/s at 4, ~14 req/s at 6. Every level meets the SLO; the answer is 2,
// the most goodput, and 4 and 6 are said to pass with less.
TEST(Sweep, TheAnswerIsTheMostGoodputNotTheHighestPassingLevel) {
  mocktest::MockProcess mock(
      {"--ttft", "20ms", "--itl", "5ms", "--contention-streams", "2", "--contention-itl", "10ms"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines() << mock.stderr_text();
  fs::path dir = fs::path(::testing::TempDir()) / "llmload_sweep_goodput";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "sweep.yaml") << "name: goodput\n"
                                       "target:\n  url: "
                                    << mock.url()
                                    << "\n"
                                       "  api: openai-chat\n  model: m\n"
                                       "load:\n  concurrency: 1\n  duration: 3s\n  grace: 5s\n"
                                       "prompts:\n  source: synthetic\n"
                                       "  input_tokens: {dist: fixed, value: 16}\n"
                                       "output:\n  max_tokens: 10\n";
  std::string cmd = std::string(LLMLOAD_BINARY) + " sweep " + (dir / "sweep.yaml").string() +
                    " --concurrency 1,2,4,6 --assert 'error_rate < 0.01' --assert 'ttft.p99 < 2s'"
                    " --out " +
                    (dir / "out").string() + " --quiet > " + (dir / "log").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::string log = slurp(dir / "log");
  ASSERT_TRUE(WIFEXITED(rc)) << log;
  EXPECT_EQ(WEXITSTATUS(rc), 0) << log;
  EXPECT_NE(log.find("answer: concurrency 2 is the capacity"), std::string::npos) << log;
  EXPECT_NE(log.find("  concurrency 4 also meets every SLO but gives less"), std::string::npos)
      << log;
  EXPECT_NE(log.find("  concurrency 6 also meets every SLO but gives less"), std::string::npos)
      << log;
  EXPECT_NE(log.find("highest passing level: concurrency 6 (not the capacity)"), std::string::npos)
      << log;
  // sweep.csv marks the roles; report.html says the same and marks the capacity on the curve.
  std::string csv = slurp(dir / "out" / "sweep.csv");
  EXPECT_NE(csv.find(",capacity,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",highest_passing,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("capacity highest_passing"), std::string::npos) << csv;
  std::string html = slurp(dir / "out" / "report.html");
  EXPECT_NE(html.find(">capacity: concurrency 2</text>"), std::string::npos);
  EXPECT_NE(html.find("highest passing level: concurrency 6 (not the capacity)"),
            std::string::npos);
}

TEST(Sweep, RefusesASweepWithNoLevels) {
  fs::path dir = fs::path(::testing::TempDir()) / "llmload_sweep_nolevels";
  fs::create_directories(dir);
  std::string cmd = std::string(LLMLOAD_BINARY) + " sweep " + LLMLOAD_SOURCE_DIR +
                    "/scenarios/quickstart.yaml --out " + (dir / "out").string() + " > " +
                    (dir / "log").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2) << slurp(dir / "log");
  EXPECT_NE(slurp(dir / "log").find("no levels"), std::string::npos);
}

}  // namespace
