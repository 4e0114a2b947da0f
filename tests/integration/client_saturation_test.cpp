// The client says when it measured itself: one client event loop flooded with tokens by a mock
// on its own process is flagged saturated in summary.json (run.client), fails
// `--assert 'client.saturated == 0'` with exit code 3, and a light run passes the same assert.
// Saturation by CPU busy (the loop never idle, > 0.9, even when other processes starve it of
// the CPU) is the condition that holds on a slow,
// loaded 2-core VM; the run is bounded to a few seconds either way.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;

// A scenario against `url`: `concurrency` streams of `max_tokens` tokens for `duration`.
std::string write_scenario(const fs::path& dir, const std::string& url, int concurrency,
                           int max_tokens, const std::string& duration) {
  const fs::path path = dir / "scenario.yaml";
  std::ofstream(path) << "name: saturation\n"
                      << "target:\n  url: " << url << "\n  api: openai-chat\n  model: mock-model\n"
                      << "load:\n  concurrency: " << concurrency << "\n  duration: " << duration
                      << "\n  grace: 2s\n"
                      << "prompts:\n  source: synthetic\n"
                      << "  input_tokens: {dist: uniform, min: 8, max: 16}\n"
                      << "output:\n  max_tokens: " << max_tokens << "\n";
  return path.string();
}

nlohmann::json run_of(const fs::path& out) {
  return nlohmann::json::parse(slurp((out / "summary.json").string()))["run"];
}

TEST(ClientSaturation, AFloodedLoopIsSaturatedAndFailsTheAssertALightRunPasses) {
  const fs::path d = fresh_dir("llmload_client_saturation");
  // No pacing: the mock writes every token as fast as it can, from two loops of its own.
  Proc mock;
  const std::string url = start_mock(mock, (d / "mock.log").string(),
                                     {"--threads", "2", "--ttft", "0s", "--itl", "0s"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());

  const std::string heavy = write_scenario(d, url, 256, 20000, "4s");
  const int heavy_code =
      run_llmload("run " + heavy + " --threads 1 --quiet --no-report --out " +
                      (d / "heavy").string() + " --assert 'client.saturated == 0'",
                  (d / "heavy.log").string());
  const std::string heavy_log = slurp((d / "heavy.log").string());
  EXPECT_EQ(heavy_code, 3) << heavy_log;
  const nlohmann::json run = run_of(d / "heavy");
  const nlohmann::json& hc = run["client"];
  ASSERT_TRUE(hc["saturated"].is_boolean()) << hc.dump();
  EXPECT_TRUE(hc["saturated"].get<bool>()) << hc.dump();
  EXPECT_TRUE(hc["cpu_busy"].get<double>() > 0.9 || hc["loop_lag_ms_p99"].get<double>() > 10)
      << hc.dump();
  EXPECT_GT(hc["token_reads"].get<int64_t>(), 0) << hc.dump();
  // The warning names the condition that fired.
  const std::string fired = hc["cpu_busy"].get<double>() > 0.9 ? "CPU busy" : "event-loop lag p99";
  EXPECT_NE(run["warnings"].dump().find(fired), std::string::npos) << run.dump();
  // ... and the finding says what to do about it.
  const nlohmann::json heavy_summary =
      nlohmann::json::parse(slurp((d / "heavy" / "summary.json").string()));
  ASSERT_GE(heavy_summary["findings"].size(), 1u);
  EXPECT_EQ(heavy_summary["findings"][0]["rule"], "client_saturated");
  EXPECT_EQ(heavy_summary["findings"][0]["severity"], "warning");
  EXPECT_NE(heavy_log.find("finding warning client_saturated"), std::string::npos) << heavy_log;

  // A paced mock and two streams: nothing for one loop.
  Proc paced;
  const std::string paced_url = start_mock(paced, (d / "paced.log").string());
  ASSERT_FALSE(paced_url.empty()) << slurp((d / "paced.log").string());
  const std::string light = write_scenario(d, paced_url, 2, 8, "1s");
  const int light_code =
      run_llmload("run " + light + " --threads 1 --quiet --no-report --out " +
                      (d / "light").string() + " --assert 'client.saturated == 0'",
                  (d / "light.log").string());
  EXPECT_EQ(light_code, 0) << slurp((d / "light.log").string());
  const nlohmann::json lc = run_of(d / "light")["client"];
  EXPECT_FALSE(lc["saturated"].get<bool>()) << lc.dump();
  const nlohmann::json light_summary =
      nlohmann::json::parse(slurp((d / "light" / "summary.json").string()));
  for (const auto& f : light_summary["findings"])
    EXPECT_NE(f["rule"], "client_saturated") << f.dump();
  EXPECT_GT(lc["token_reads"].get<int64_t>(), 0) << lc.dump();
}

}  // namespace
