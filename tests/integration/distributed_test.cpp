// Real processes on loopback: a mock, a coordinator on an ephemeral port and workers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;

std::string dir() {
  static std::string d = test_dir("dist");
  return d;
}

// The log file of the process named `name` in this test's folder.
std::string log_of(const std::string& name) {
  return dir() + "/" + name + ".log";
}

TEST(Distributed, ThreeWorkersTotalsAreTheSumOfTheWorkers) {
  Proc mock, coord, w1, w2, w3;
  spawn(mock, {"llmload", "mock", "--port", "0"}, log_of("mock"));
  std::string url = wait_for(mock, "(http://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string out = dir() + "/three";
  spawn(coord,
        {"llmload", "coordinator", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
         "--bind", "tcp://127.0.0.1:*", "--workers", "3", "--target", url, "--requests", "60",
         "--out", out, "--quiet"},
        log_of("coord"));
  std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, log_of("w1"));
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w2"}, log_of("w2"));
  spawn(w3, {"llmload", "worker", "--connect", ep, "--threads", "2", "--id", "w3"}, log_of("w3"));
  ASSERT_EQ(wait_exit(coord, 60), 0) << slurp(coord.out);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["run"]["status"], "completed");
  int64_t sum = 0, ok = 0;
  ASSERT_EQ(j["run"]["workers"].size(), 3u);
  for (const auto& w : j["run"]["workers"]) {
    EXPECT_EQ(w["status"], "ok");
    sum += w["totals"]["requests"].get<int64_t>();
    ok += w["totals"]["ok"].get<int64_t>();
  }
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(), 60);
  EXPECT_EQ(sum, 60);
  EXPECT_EQ(ok, j["totals"]["ok"].get<int64_t>());
  EXPECT_EQ(j["metrics"]["ttft"]["count"].get<int64_t>(), 60);
  // The client's health comes from the workers' reports: their processes used CPU.
  EXPECT_GT(j["run"]["client"]["cpu_busy"].get<double>(), 0.0);
  EXPECT_LE(j["run"]["client"]["cpu_busy"].get<double>(), 1.0);
  EXPECT_GE(j["run"]["client"]["steal"].get<double>(), 0.0);
  EXPECT_LE(j["run"]["client"]["steal"].get<double>(), 1.0);
}

// A request budget far beyond the prompt cap: RUN carries a bounded prompt list (not one prompt
// per request), so the workers decode it at once, keep their heartbeats and end on the duration.
TEST(Distributed, HugeRequestBudgetShipsBoundedPromptsAndNoWorkerIsLost) {
  Proc mock, coord, w1, w2;
  spawn(mock, {"llmload", "mock", "--port", "0"}, log_of("mock-huge"));
  std::string url = wait_for(mock, "(http://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string out = dir() + "/huge";
  spawn(coord,
        {"llmload", "coordinator", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
         "--bind", "tcp://127.0.0.1:*", "--workers", "2", "--target", url, "--requests",
         "100000000", "--duration", "3s", "--out", out, "--quiet"},
        log_of("coord-huge"));
  std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, log_of("hw1"));
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w2"}, log_of("hw2"));
  ASSERT_EQ(wait_exit(coord, 90), 0) << slurp(coord.out);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["run"]["status"], "completed");
  ASSERT_EQ(j["run"]["workers"].size(), 2u);
  for (const auto& w : j["run"]["workers"]) {
    EXPECT_EQ(w["status"], "ok") << w["id"];
    EXPECT_GT(w["totals"]["ok"].get<int64_t>(), 0) << w["id"];
  }
  EXPECT_EQ(slurp(coord.out).find("lost"), std::string::npos) << slurp(coord.out);
  EXPECT_LT(j["totals"]["requests"].get<int64_t>(), 100000000);  // ended on the duration
}

TEST(Distributed, CoordinatorRefusesNonLoopbackBindWithoutCurve) {
  Proc coord;
  spawn(coord,
        {"llmload", "coordinator", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
         "--bind", "tcp://0.0.0.0:*", "--workers", "1", "--out", dir() + "/insecure"},
        log_of("insecure"));
  EXPECT_EQ(wait_exit(coord, 20), 2);
  EXPECT_NE(slurp(coord.out).find("--allow-insecure"), std::string::npos);
}

TEST(Distributed, KeygenWritesASecretFileOnlyTheOwnerReads) {
  Proc kg;
  const std::string prefix = dir() + "/key";
  spawn(kg, {"llmload", "keygen", "--out", prefix}, log_of("keygen"));
  ASSERT_EQ(wait_exit(kg, 20), 0) << slurp(kg.out);
  auto perms = std::filesystem::status(prefix + ".key").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  std::string pub = slurp(prefix + ".pub");
  EXPECT_NE(pub.find('\n'), std::string::npos);
  Proc again;
  spawn(again, {"llmload", "keygen", "--out", prefix}, log_of("keygen2"));
  EXPECT_EQ(wait_exit(again, 20), 2);  // never overwrites a key
}

TEST(Distributed, WorkerKilledMidRunGivesPartialWithItsDataKept) {
  Proc mock, coord, w1, w2;
  spawn(mock, {"llmload", "mock", "--port", "0"}, log_of("mock-kill"));
  std::string url = wait_for(mock, "(http://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(url.empty());
  const std::string out = dir() + "/killed";
  spawn(coord,
        {"llmload", "coordinator", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
         "--bind", "tcp://127.0.0.1:*", "--workers", "2", "--target", url, "--duration", "8s",
         "--out", out, "--quiet"},
        log_of("coord-kill"));
  std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty());
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, log_of("kw1"));
  spawn(w2, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w2"}, log_of("kw2"));
  ASSERT_FALSE(wait_for(coord, "(joined \\[2/2\\])").empty());
  std::this_thread::sleep_for(std::chrono::seconds(5));  // ~3 s of load reported
  ::kill(w2.pid, SIGKILL);
  EXPECT_EQ(wait_exit(coord, 60), 5) << slurp(coord.out);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["run"]["status"], "partial");
  for (const auto& w : j["run"]["workers"]) {
    EXPECT_EQ(w["status"], w["id"] == "w2" ? "lost" : "ok");
    EXPECT_GT(w["totals"]["requests"].get<int64_t>(), 0) << w["id"];  // w2's data kept
  }
}

TEST(Distributed, SigintWritesCompleteAbortedResults) {
  Proc mock, coord, w1;
  spawn(mock, {"llmload", "mock", "--port", "0"}, log_of("mock-int"));
  std::string url = wait_for(mock, "(http://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(url.empty());
  const std::string out = dir() + "/sigint";
  spawn(coord,
        {"llmload", "coordinator", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
         "--bind", "tcp://127.0.0.1:*", "--workers", "1", "--target", url, "--duration", "60s",
         "--out", out, "--quiet"},
        log_of("coord-int"));
  std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty());
  spawn(w1, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "w1"}, log_of("iw1"));
  ASSERT_FALSE(wait_for(coord, "(joined \\[1/1\\])").empty());
  std::this_thread::sleep_for(std::chrono::seconds(4));
  ::kill(coord.pid, SIGINT);
  EXPECT_EQ(wait_exit(coord, 30), 4) << slurp(coord.out);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["run"]["status"], "aborted");
  EXPECT_GT(j["totals"]["requests"].get<int64_t>(), 0);
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(),
            j["totals"]["ok"].get<int64_t>() + j["totals"]["failed"].get<int64_t>());
}

}  // namespace
