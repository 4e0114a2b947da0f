// The ready scenario scenarios/multi-turn-live.yaml end to end (`llmload run` against the
// built-in mock): results grouped per turn in summary.json (the `turn` label), each turn's
// requests no more than the turn before it has (a turn follows the one before it), the input
// growing with the turn (live history: each turn carries the answers before it), and an
// assertion selecting a turn.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::run_llmload;
using llmload_test::slurp;

TEST(ConversationRun, TheLiveScenarioGroupsResultsPerTurn) {
  const fs::path d = fresh_dir("llmload_conversation_run");
  const fs::path out = d / "out";
  const int code = run_llmload("run " + std::string(LLMLOAD_SOURCE_DIR) +
                                   "/scenarios/multi-turn-live.yaml --requests 24 --out " +
                                   out.string() + " --no-report --assert 'turn=2: error_rate < 1%'",
                               (d / "log").string());
  const std::string log = slurp((d / "log").string());
  ASSERT_EQ(code, 0) << log;

  const auto j = nlohmann::json::parse(slurp((out / "summary.json").string()));
  std::map<std::string, int64_t> requests;
  std::map<std::string, double> input_mean;
  for (const auto& g : j["groups"]) {
    ASSERT_TRUE(g["labels"].contains("turn")) << g["labels"].dump();
    const std::string turn = g["labels"]["turn"].get<std::string>();
    requests[turn] += g["totals"]["requests"].get<int64_t>();
    if (g["metrics"].contains("input_tokens"))
      input_mean[turn] = g["metrics"]["input_tokens"]["mean"].get<double>();
  }
  EXPECT_EQ(requests.size(), 3u) << j["groups"].dump();  // the dataset's conversations: 2-3 turns
  EXPECT_EQ(requests["1"] + requests["2"] + requests["3"], 24);
  EXPECT_EQ(j["totals"]["ok"], 24);
  EXPECT_GE(requests["1"], requests["2"]);
  EXPECT_GE(requests["2"], requests["3"]);
  EXPECT_GT(requests["3"], 0);
  // Each turn carries every answer before it (64 tokens each): the input grows by at least that.
  ASSERT_TRUE(input_mean.count("1") && input_mean.count("3")) << j["groups"].dump();
  EXPECT_GT(input_mean["3"], input_mean["1"] + 2 * 60);
  ASSERT_EQ(j["assertions"].size(), 1u);
  EXPECT_TRUE(j["assertions"][0]["passed"].get<bool>()) << j["assertions"].dump();
}

}  // namespace
