// `--wait-ready D` (issue 15 point 6) as a real process: CI starts the server and the test
// together, so the run polls the target until it answers, up to D, before its pre-flight.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "process_util.h"

namespace {

using llmload_test::kQuickstart;
using llmload_test::free_port;
using llmload_test::Proc;
using llmload_test::run_to_end;
using llmload_test::slurp;
using llmload_test::spawn;
using llmload_test::test_dir;
using llmload_test::wait_exit;
using llmload_test::wait_for;

std::vector<std::string> run_args(const std::string& url, const std::string& out) {
  return {"llmload", "run",   kQuickstart, "--target", url,          "--requests",
          "20",      "--out", out,         "--quiet",  "--no-report"};
}

// The run starts first; the server comes up 2 s later on the port chosen beforehand.
TEST(WaitReady, ARunWaitsForAServerThatStartsLate) {
  const std::string dir = test_dir("wait-ready-late");
  const int port = free_port();
  ASSERT_GT(port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto args = run_args(url, dir + "/r");
  args.insert(args.end(), {"--wait-ready", "20s"});
  Proc run;
  spawn(run, args, dir + "/run.log");
  EXPECT_NE(wait_for(run, "waiting for " + url + " \\(GET /v1/models\\): [^\\n]*\\(", 15), "")
      << slurp(dir + "/run.log");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Proc mock;
  spawn(mock, {"llmload", "mock", "--port", std::to_string(port), "--model", "mock-model"},
        dir + "/mock.log");
  ASSERT_EQ(wait_exit(run, 60), 0) << slurp(dir + "/run.log") << slurp(dir + "/mock.log");
  auto j = nlohmann::json::parse(slurp(dir + "/r/summary.json"));
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 20);
  // The resolved scenario records what the run waited for.
  EXPECT_EQ(j["run"]["scenario"]["targets"][0]["wait_ready"], "20s") << j["run"]["scenario"];
  std::filesystem::remove_all(dir);
}

TEST(WaitReady, ATargetNeverReadyIsExit2NamingItAndTheLastReason) {
  const std::string dir = test_dir("wait-ready-never");
  const int port = free_port();
  ASSERT_GT(port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto args = run_args(url, dir + "/r");
  args.insert(args.end(), {"--wait-ready", "2s"});
  const auto t0 = std::chrono::steady_clock::now();
  auto [code, log] = run_to_end(args, dir + "/run.log", 60);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("target " + url + " not ready within --wait-ready 2.0 s: " + url +
                     " (GET /v1/models): "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("refused"), std::string::npos) << log;
  EXPECT_GE(waited, 2.0) << log;                                   // it did wait
  EXPECT_FALSE(std::filesystem::exists(dir + "/r/summary.json"));  // no load was sent
  std::filesystem::remove_all(dir);
}

TEST(WaitReady, WithoutItPreflightFailsAtOnceAsBefore) {
  const std::string dir = test_dir("wait-ready-none");
  const int port = free_port();
  ASSERT_GT(port, 0);
  auto [code, log] = run_to_end(run_args("http://127.0.0.1:" + std::to_string(port), dir + "/r"),
                                dir + "/run.log", 60);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("pre-flight failed"), std::string::npos) << log;
  EXPECT_EQ(log.find("waiting for"), std::string::npos) << log;
  EXPECT_EQ(log.find("--wait-ready"), std::string::npos) << log;
  std::filesystem::remove_all(dir);
}

TEST(WaitReady, TheScenarioKeyIsCheckedAndAFlagBadlyWrittenIsRefused) {
  const std::string dir = test_dir("wait-ready-bad");
  const std::string bad = dir + "/bad.yaml";
  std::ofstream(bad) << "name: bad\ntarget:\n  url: mock\n  api: openai-chat\n  model: m\n"
                        "  wait_ready: soon\nload:\n  requests: 1\n";
  auto [code, log] = run_to_end({"llmload", "validate", bad}, dir + "/v.log", 30);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("target.wait_ready"), std::string::npos) << log;
  auto [code2, log2] =
      run_to_end({"llmload", "run", kQuickstart, "--wait-ready", "later", "--out", dir + "/r"},
                 dir + "/r.log", 30);
  EXPECT_EQ(code2, 2) << log2;
  EXPECT_NE(log2.find("--wait-ready"), std::string::npos) << log2;
  std::filesystem::remove_all(dir);
}

}  // namespace
