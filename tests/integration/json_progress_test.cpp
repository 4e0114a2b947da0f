// `llmload run --json`: stdout is one JSON object per interval and nothing else (a pipeline can
// read it line by line); the clock runs to the window's end, the requests finishing after it
// are in phase "grace", and the last, short interval is flagged partial with its length, so a
// rate over a fraction of a second is not read as a spike.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::shell;
using llmload_test::slurp;

TEST(JsonProgress, OneObjectPerIntervalWithPhaseAndPartialLastInterval) {
  const fs::path d = fresh_dir("llmload_json_progress");
  std::ofstream(d / "s.yaml") << "name: json-progress\n"
                              << "target: {url: mock, api: openai-chat, model: mock-model}\n"
                              << "load: {concurrency: 4, duration: 2s, grace: 5s}\n"
                              << "prompts: {source: synthetic, input_tokens: {dist: uniform, "
                                 "min: 8, max: 16}}\n"
                              << "output: {max_tokens: 30}\n";
  const int code = shell(std::string(LLMLOAD_BINARY) + " run " + (d / "s.yaml").string() +
                         " --json --no-report --out " + (d / "out").string() + " > " +
                         (d / "stdout").string() + " 2> " + (d / "stderr").string());
  ASSERT_EQ(code, 0) << slurp((d / "stderr").string());

  std::istringstream lines(slurp((d / "stdout").string()));
  std::vector<nlohmann::json> objs;
  for (std::string l; std::getline(lines, l);) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON on stdout: " << l;
    objs.push_back(j);
  }
  // Two full intervals of the 2 s window (the workers' clock may split one more), then the
  // requests in flight at its end finish in the grace: one more, short interval.
  ASSERT_GE(objs.size(), 3u);
  ASSERT_LE(objs.size(), 5u);
  double prev_elapsed = -1;
  int64_t prev_requests = -1;
  for (size_t i = 0; i < objs.size(); ++i) {
    const auto& j = objs[i];
    EXPECT_DOUBLE_EQ(j["total_s"].get<double>(), 2.0);
    EXPECT_GT(j["elapsed_s"].get<double>(), prev_elapsed);
    EXPECT_GE(j["requests"].get<int64_t>(), prev_requests) << "a running total";
    prev_elapsed = j["elapsed_s"].get<double>();
    prev_requests = j["requests"].get<int64_t>();
    EXPECT_EQ(j["workers"], 1);
    const bool past = j["elapsed_s"].get<double>() > 2.0 + 1e-3;
    EXPECT_EQ(j["phase"], past ? "grace" : "measured") << j.dump();
  }
  const auto& last = objs.back();
  EXPECT_EQ(last["phase"], "grace") << last.dump();
  EXPECT_TRUE(last["partial"].get<bool>()) << last.dump();
  EXPECT_LT(last["interval_s"].get<double>(), 0.99);
  EXPECT_EQ(last["in_flight"], 0);
  for (size_t i = 0; i + 1 < objs.size(); ++i)
    EXPECT_FALSE(objs[i]["partial"].get<bool>()) << objs[i].dump();
  // The last running total is the run's.
  const auto summary = nlohmann::json::parse(slurp((d / "out" / "summary.json").string()));
  EXPECT_EQ(last["requests"], summary["totals"]["requests"]);
}

}  // namespace
