// Workers the coordinator must refuse, between real processes on loopback: a CURVE key not on
// its allow-list, and a wrong protocol version (faked with the test-only environment variable
// LLMLOAD_TEST_PROTOCOL_VERSION, see worker/control.h). Neither gets any load; both sides say
// why.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;

std::string dir() {
  static std::string d = test_dir("dist-refusal");
  return d;
}

void keygen(const std::string& prefix) {
  auto [code, log] = run_to_end({"llmload", "keygen", "--out", prefix}, prefix + ".log", 20);
  ASSERT_EQ(code, 0) << log;
}

TEST(DistributedRefusal, WorkerWithAKeyNotOnTheAllowListGetsNoLoad) {
  const std::string d = dir();
  keygen(d + "/coord");
  keygen(d + "/good");
  keygen(d + "/bad");
  Proc mock, coord, bad, good;
  const std::string url = start_mock(mock, d + "/curve-mock.log");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  spawn(coord,
        {"llmload", "coordinator", kQuickstart, "--bind", "tcp://127.0.0.1:*", "--workers", "1",
         "--target", url, "--requests", "20", "--out", d + "/curve", "--quiet", "--curve-key",
         d + "/coord", "--allow-keys", d + "/good.pub"},
        d + "/curve-coord.log");
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);

  spawn(bad,
        {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "bad", "--curve-key",
         d + "/bad", "--server-key", d + "/coord.pub"},
        d + "/curve-bad.log");
  // The refused worker says so, quickly and clearly.
  EXPECT_FALSE(wait_for(bad, "(CURVE authentication failed)", 10).empty()) << slurp(bad.out);
  EXPECT_EQ(slurp(bad.out).find("attached"), std::string::npos) << slurp(bad.out);
  // The coordinator is still waiting: the refused worker did not count.
  int status = 0;
  ASSERT_EQ(::waitpid(coord.pid, &status, WNOHANG), 0) << slurp(coord.out);
  EXPECT_EQ(slurp(coord.out).find("joined"), std::string::npos) << slurp(coord.out);

  spawn(good,
        {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "good", "--curve-key",
         d + "/good", "--server-key", d + "/coord.pub"},
        d + "/curve-good.log");
  ASSERT_EQ(wait_exit(coord, 60), 0) << slurp(coord.out) << slurp(good.out);
  auto j = nlohmann::json::parse(slurp(d + "/curve/summary.json"));
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 20);
  ASSERT_EQ(j["run"]["workers"].size(), 1u);
  EXPECT_EQ(j["run"]["workers"][0]["id"], "good") << j["run"]["workers"].dump();
  EXPECT_EQ(slurp(bad.out).find("attached"), std::string::npos) << slurp(bad.out);
}

TEST(DistributedRefusal, WrongProtocolVersionIsRefusedOnBothSides) {
  const std::string d = dir();
  Proc mock, coord, old_worker, good;
  const std::string url = start_mock(mock, d + "/proto-mock.log");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  spawn(coord,
        {"llmload", "coordinator", kQuickstart, "--bind", "tcp://127.0.0.1:*", "--workers", "1",
         "--target", url, "--requests", "10", "--out", d + "/proto", "--quiet"},
        d + "/proto-coord.log");
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);

  spawn(old_worker, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "old"},
        d + "/proto-old.log", {"LLMLOAD_TEST_PROTOCOL_VERSION=999"});
  // The worker cannot fix this by retrying: it exits with an error naming both versions.
  const int code = wait_exit(old_worker, 20);
  EXPECT_NE(code, 0) << slurp(old_worker.out);
  EXPECT_NE(code, -1) << "still running: " << slurp(old_worker.out);
  const std::string wlog = slurp(old_worker.out);
  EXPECT_NE(wlog.find("protocol version 999"), std::string::npos) << wlog;
  // The coordinator names the worker and the versions, and keeps waiting.
  EXPECT_FALSE(wait_for(coord, "(refused worker old[^\\n]*protocol version 999)", 10).empty())
      << slurp(coord.out);
  int status = 0;
  ASSERT_EQ(::waitpid(coord.pid, &status, WNOHANG), 0) << slurp(coord.out);

  spawn(good, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", "current"},
        d + "/proto-good.log");
  ASSERT_EQ(wait_exit(coord, 60), 0) << slurp(coord.out) << slurp(good.out);
  auto j = nlohmann::json::parse(slurp(d + "/proto/summary.json"));
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 10);
  ASSERT_EQ(j["run"]["workers"].size(), 1u);
  EXPECT_EQ(j["run"]["workers"][0]["id"], "current");
}

}  // namespace
