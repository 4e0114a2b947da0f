// The scenario's `rating:` tiers reach every output of a real run: summary.json
// (groups[].rating, run.rating_tiers), the terminal summary, summary.md, the JUnit file's
// properties and report.html. The built-in mock answers in ~50 ms at ~100 tokens/s, so a tier of
// "TTFT under 1 s and over 10 tokens/s" is met and one of "under 1 ms" is not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::run_llmload;
using llmload_test::slurp;

TEST(RatingRun, TheScenariosTiersRateTheGroupInEveryOutput) {
  const fs::path d = fresh_dir("llmload_rating_run");
  std::ofstream(d / "s.yaml") << "name: rating\n"
                              << "target: {url: mock, api: openai-chat, model: mock-model}\n"
                              << "load: {concurrency: 2, requests: 6}\n"
                              << "prompts: {source: synthetic, input_tokens: 8}\n"
                              << "output: {max_tokens: 8}\n"
                              << "rating:\n"
                              << "  - {name: instant, ttft: 1ms, tokens_per_s: 1000000}\n"
                              << "  - {name: brisk, ttft: 1s, tokens_per_s: 10}\n";
  const fs::path out = d / "out";
  const int code = run_llmload("run " + (d / "s.yaml").string() + " --out " + out.string() +
                                   " --junit " + (d / "junit.xml").string() + " --summary-md " +
                                   (d / "summary.md").string(),
                               (d / "log").string());
  const std::string log = slurp((d / "log").string());
  ASSERT_EQ(code, 0) << log;

  const auto j = nlohmann::json::parse(slurp((out / "summary.json").string()));
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["rating"], "brisk") << j["groups"][0]["metrics"].dump();
  EXPECT_EQ(j["run"]["rating_tiers"][0]["name"], "instant");
  EXPECT_EQ(j["run"]["scenario"]["rating"][1]["name"], "brisk");
  EXPECT_NE(log.find("brisk"), std::string::npos) << "terminal summary:\n" << log;
  EXPECT_NE(slurp((d / "summary.md").string()).find("| brisk |"), std::string::npos);
  const std::string junit = slurp((d / "junit.xml").string());
  EXPECT_NE(junit.find("<property name=\"rating:model=mock-model,target=mock\" value=\"brisk\"/>"),
            std::string::npos)
      << junit;
  EXPECT_NE(slurp((out / "report.html").string()).find(">brisk<"), std::string::npos);
}

}  // namespace
