// A dataset read on the workers (DESIGN.md "Prompts on the worker"), between real processes on
// loopback: a coordinator and two workers over a 3,000-entry JSONL file (more than the 2,048
// prompts a RUN used to carry) send every entry once with exact totals; a worker whose copy of
// the file (or the trace) differs from the coordinator's refuses the run in its pre-flight,
// naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;

std::string dir() {
  static std::string d = test_dir("dist-dataset");
  return d;
}

// A JSONL dataset of `n` distinct prompts at `path`.
void write_dataset(const std::string& path, int n) {
  std::ofstream f(path);
  for (int i = 0; i < n; ++i) f << "{\"prompt\": \"shared dataset entry " << i << "\"}\n";
}

void write_scenario(const std::string& path, const std::string& url, const std::string& data,
                    int requests) {
  std::ofstream(path) << "target: {url: \"" << url
                      << "\", api: openai-chat, model: m}\n"
                         "load: {concurrency: 5, requests: "
                      << requests
                      << "}\n"
                         "prompts: {source: jsonl, file: \""
                      << data
                      << "\", sampling: shuffle}\n"
                         "output: {max_tokens: 1}\n";
}

TEST(DistributedDataset, TwoWorkersSendEveryEntryOnceWithExactTotals) {
  const std::string d = dir() + "/every";
  std::filesystem::create_directories(d);
  write_dataset(d + "/ds.jsonl", 3000);
  Proc mock, coord, w1, w2;
  const std::string truth = d + "/truth.jsonl";
  const std::string url =
      start_mock(mock, d + "/mock.log", {"--truth", truth, "--ttft", "0s", "--itl", "0s"});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  write_scenario(d + "/s.yaml", url, d + "/ds.jsonl", 3000);
  spawn(coord,
        {"llmload", "coordinator", d + "/s.yaml", "--bind", "tcp://127.0.0.1:*", "--workers", "2",
         "--out", d + "/out", "--quiet"},
        d + "/coord.log");
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, d + "/w1.log");
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "2", "--id", "w2"}, d + "/w2.log");
  ASSERT_EQ(wait_exit(coord, 120), 0) << slurp(coord.out) << slurp(w1.out) << slurp(w2.out);
  auto j = nlohmann::json::parse(slurp(d + "/out/summary.json"));
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(), 3000);
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 3000);
  int64_t sum = 0;
  ASSERT_EQ(j["run"]["workers"].size(), 2u);
  for (const auto& w : j["run"]["workers"]) sum += w["totals"]["requests"].get<int64_t>();
  EXPECT_EQ(sum, 3000);

  ::kill(mock.pid, SIGINT);
  ASSERT_EQ(wait_exit(mock, 30), 0);
  std::set<std::string> bodies;
  size_t generations = 0;
  std::istringstream in(slurp(truth));
  for (std::string line; std::getline(in, line);) {
    auto t = nlohmann::json::parse(line, nullptr, false);
    if (t.is_discarded() || t["api"].get<std::string>().empty()) continue;
    ++generations;
    bodies.insert(t["body_hash"].get<std::string>());
  }
  EXPECT_EQ(generations, 3000u);
  EXPECT_EQ(bodies.size(), 3000u);  // every entry once over both workers
}

// The coordinator describes the file before any worker joins; the file is changed once the
// first worker has joined (so after that), and the run goes out when the second joins: both
// workers find another file at the path and refuse before sending any load.
void expect_refused(const std::string& name, const std::string& changed_text,
                    const std::string& what) {
  const std::string d = dir() + "/" + name;
  std::filesystem::create_directories(d);
  const std::string data = d + "/ds.jsonl";
  write_dataset(data, 10);
  Proc mock, coord, w1, w2;
  const std::string truth = d + "/truth.jsonl";
  const std::string url = start_mock(mock, d + "/mock.log", {"--truth", truth});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  write_scenario(d + "/s.yaml", url, data, 20);
  spawn(coord,
        {"llmload", "coordinator", d + "/s.yaml", "--bind", "tcp://127.0.0.1:*", "--workers", "2",
         "--out", d + "/out"},
        d + "/coord.log");
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, d + "/w1.log");
  ASSERT_FALSE(wait_for(coord, "(worker w1 .*joined)", 30).empty()) << slurp(coord.out);
  std::ofstream(data, std::ios::trunc) << changed_text;
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w2"}, d + "/w2.log");
  EXPECT_EQ(wait_exit(coord, 60), 2) << slurp(coord.out);
  const std::string log = slurp(coord.out);
  EXPECT_NE(log.find("pre-flight failed on worker"), std::string::npos) << log;
  EXPECT_NE(log.find("prompts.file " + data + ": " + what), std::string::npos) << log;
  ::kill(mock.pid, SIGINT);
  ASSERT_EQ(wait_exit(mock, 30), 0);
  // No generation request reached the target.
  std::istringstream in(slurp(truth));
  for (std::string line; std::getline(in, line);) {
    auto t = nlohmann::json::parse(line, nullptr, false);
    if (!t.is_discarded()) EXPECT_TRUE(t["api"].get<std::string>().empty()) << line;
  }
}

TEST(DistributedDataset, AWorkerWhoseFileHasAnotherSizeRefusesTheRun) {
  expect_refused("size", "{\"prompt\": \"another file\"}\n", "size differs");
}

TEST(DistributedDataset, AWorkerWhoseFileHasOtherBytesOfTheSameSizeRefusesTheRun) {
  // The same length as write_dataset's 10 lines, one digit changed: only the hash tells.
  std::ostringstream same;
  for (int i = 0; i < 10; ++i)
    same << "{\"prompt\": \"shared dataset entry " << (i == 3 ? 7 : i) << "\"}\n";
  expect_refused("hash", same.str(), "content differs");
}

// The same check for a trace (load.trace.file): the worker reads it from the same path.
TEST(DistributedDataset, AWorkerWhoseTraceDiffersRefusesTheRun) {
  const std::string d = dir() + "/trace";
  std::filesystem::create_directories(d);
  const std::string trace = d + "/trace.jsonl";
  std::ofstream(trace) << "{\"t_ms\": 0, \"input_tokens\": 3, \"output_tokens\": 2}\n"
                          "{\"t_ms\": 5, \"input_tokens\": 4, \"output_tokens\": 2}\n";
  Proc mock, coord, w1, w2;
  const std::string url = start_mock(mock, d + "/mock.log");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  std::ofstream(d + "/s.yaml") << "target: {url: \"" << url
                               << "\", api: openai-chat, model: m}\n"
                                  "load: {trace: {file: \""
                               << trace << "\", format: jsonl}}\n";
  spawn(coord,
        {"llmload", "coordinator", d + "/s.yaml", "--bind", "tcp://127.0.0.1:*", "--workers", "2",
         "--out", d + "/out"},
        d + "/coord.log");
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, d + "/w1.log");
  ASSERT_FALSE(wait_for(coord, "(worker w1 .*joined)", 30).empty()) << slurp(coord.out);
  std::ofstream(trace, std::ios::trunc)
      << "{\"t_ms\": 0, \"input_tokens\": 3, \"output_tokens\": 2}\n";
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w2"}, d + "/w2.log");
  EXPECT_EQ(wait_exit(coord, 60), 2) << slurp(coord.out);
  const std::string log = slurp(coord.out);
  EXPECT_NE(log.find("load.trace.file " + trace + ": size differs"), std::string::npos) << log;
}

}  // namespace
