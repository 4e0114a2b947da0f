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
  EXPECT_NE(log.find("answer: concurrency 4 is the highest load meeting every SLO"),
            std::string::npos)
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
