// The per-call log from real runs: `--requests-jsonl FILE` writes one JSON object per measured
// request, as requests.csv has one row; scenarios/bench-10.yaml (ten prompts of growing
// complexity) runs end to end with both; failed requests carry their kind and message, ok ones
// the server's own figures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;

std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(p.string()));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> csv_lines(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(slurp(p.string()));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(RequestsJsonl, BenchTenRunsEndToEndWithItsCallsInCsvAndJsonl) {
  const fs::path d = fresh_dir("llmload_requests_jsonl_bench10");
  const int code =
      run_llmload("run " + std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/bench-10.yaml --out " +
                      (d / "out").string() + " --requests-csv --requests-jsonl " +
                      (d / "calls.jsonl").string() +
                      " --no-report --header 'x-mock-itl: 1ms'",  // its longest reply in ~4 s
                  (d / "log").string());
  ASSERT_EQ(code, 0) << slurp((d / "log").string());
  const auto calls = read_jsonl(d / "calls.jsonl");
  ASSERT_EQ(calls.size(), 10u);
  const auto csv = csv_lines(d / "out" / "requests.csv");
  ASSERT_EQ(csv.size(), 11u) << "a header and ten rows";
  std::set<int64_t> prompts;
  for (const auto& c : calls) {
    EXPECT_EQ(c["outcome"], "ok") << c.dump();
    EXPECT_EQ(c["labels"]["model"], "mock-model") << c.dump();
    EXPECT_TRUE(c["ttft_ms"].is_number()) << c.dump();
    EXPECT_TRUE(c["sent_unix_ns"].is_number_integer()) << c.dump();
    EXPECT_GT(c["output_tokens"].get<int64_t>(), 0);
    EXPECT_TRUE(c["input_tokens"].is_number_integer()) << "the mock reports usage: " << c.dump();
    prompts.insert(c["prompt"].get<int64_t>());
    // The same request is a CSV row.
    const std::string id = c["request_id"];
    int rows = 0;
    for (const auto& line : csv) rows += line.rfind(id + ",", 0) == 0;
    EXPECT_EQ(rows, 1) << id;
  }
  EXPECT_EQ(prompts.size(), 10u) << "the ten prompts, one request each";
}

TEST(RequestsJsonl, FailuresCarryTheirMessageAndOkCallsTheServersFigures) {
  const fs::path d = fresh_dir("llmload_requests_jsonl_faults");
  Proc mock;
  const std::string url =
      start_mock(mock, (d / "mock.log").string(),
                 {"--fault-rate", "0.4", "--faults", "http500", "--usage", "final"});
  ASSERT_FALSE(url.empty()) << slurp((d / "mock.log").string());
  std::ofstream(d / "s.yaml") << "name: calls\n"
                              << "target: {url: " << url << ", api: openai-chat, model: m}\n"
                              << "load: {concurrency: 2, requests: 30}\n"
                              << "prompts: {source: synthetic, input_tokens: 8}\n"
                              << "output: {max_tokens: 8}\n"
                              << "tags: {task: chat}\n";
  run_llmload("run " + (d / "s.yaml").string() + " --no-report --out " + (d / "out").string() +
                  " --requests-jsonl " + (d / "calls.jsonl").string(),
              (d / "log").string());
  const auto summary = nlohmann::json::parse(slurp((d / "out" / "summary.json").string()));
  const auto calls = read_jsonl(d / "calls.jsonl");
  ASSERT_EQ(int64_t(calls.size()), summary["totals"]["requests"].get<int64_t>());
  int failed = 0, ok = 0;
  for (const auto& c : calls) {
    EXPECT_EQ(c["labels"]["task"], "chat") << "tags are labels: " << c.dump();
    if (c["outcome"] == "ok") {
      ++ok;
      EXPECT_TRUE(c["error_message"].is_null());
      EXPECT_TRUE(c["server"]["eval_ms"].is_number()) << c.dump();
    } else {
      ++failed;
      EXPECT_EQ(c["outcome"], "http_5xx") << c.dump();
      EXPECT_NE(c["error_message"].get<std::string>().find("HTTP 500"), std::string::npos)
          << c.dump();
    }
  }
  EXPECT_EQ(failed, summary["totals"]["failed"].get<int>());
  EXPECT_GT(failed, 0);
  EXPECT_GT(ok, 0);
}

TEST(RequestsJsonl, AnUnwritablePathIsAClearError) {
  const fs::path d = fresh_dir("llmload_requests_jsonl_bad");
  const int code = run_llmload("run " + llmload_test::kQuickstart + " --requests 2 --out " +
                                   (d / "out").string() + " --requests-jsonl " +
                                   (d / "no-such-dir" / "calls.jsonl").string(),
                               (d / "log").string());
  const std::string log = slurp((d / "log").string());
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(log.find("no-such-dir/calls.jsonl: cannot create"), std::string::npos) << log;
}

}  // namespace
