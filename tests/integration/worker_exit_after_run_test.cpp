// `llmload worker --exit-after-run`, the worker of a Kubernetes Job (deploy/kubernetes): it keeps
// connecting until its coordinator answers, serves one run and exits, so the Job completes;
// a worker arriving after the run started has nothing to do and exits 0; a coordinator lost
// mid-run makes it exit 5 at once instead of waiting for a coordinator that is gone.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;

std::string dir() {
  static std::string d = test_dir("exit-after-run");
  return d;
}

void start_worker(Proc& w, const std::string& ep, const std::string& name) {
  spawn(w,
        {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", name, "--exit-after-run"},
        dir() + "/" + name + ".log");
}

TEST(WorkerExitAfterRun, WaitsForItsCoordinatorServesOneRunAndExitsZero) {
  Proc mock, coord, early, late;
  const std::string ep = "tcp://127.0.0.1:" + std::to_string(free_port());
  // The worker starts first, as a Job's pods may start before the coordinator's.
  start_worker(early, ep, "early");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  int status = 0;
  ASSERT_EQ(::waitpid(early.pid, &status, WNOHANG), 0)
      << "gave up before its coordinator came: " << slurp(early.out);
  const std::string url = start_mock(mock, dir() + "/mock.log");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string out = dir() + "/run";
  spawn(coord,
        {"llmload", "coordinator", kQuickstart, "--bind", ep, "--workers", "1", "--target", url,
         "--duration", "4s", "--out", out, "--quiet"},
        dir() + "/coord.log");
  ASSERT_FALSE(wait_for(coord, "(worker early .* joined)", 20).empty()) << slurp(coord.out);
  // A worker that comes when the run has its workers (a Job's replacement pod) is refused and
  // has nothing to do.
  start_worker(late, ep, "late");
  EXPECT_EQ(wait_exit(late, 20), 0) << slurp(late.out);
  EXPECT_NE(slurp(late.out).find("already has its 1 worker"), std::string::npos) << slurp(late.out);

  ASSERT_EQ(wait_exit(coord, 60), 0) << slurp(coord.out);
  EXPECT_EQ(wait_exit(early, 20), 0) << slurp(early.out);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(j["run"]["status"], "completed");
  ASSERT_EQ(j["run"]["workers"].size(), 1u);
  EXPECT_EQ(j["run"]["workers"][0]["id"], "early");
  EXPECT_GT(j["totals"]["ok"].get<int64_t>(), 0);
}

TEST(WorkerExitAfterRun, CoordinatorLostMidRunExitsFive) {
  Proc mock, coord, w;
  const std::string url = start_mock(mock, dir() + "/mock-lost.log", {"--itl", "20ms"});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  spawn(coord,
        {"llmload", "coordinator", kQuickstart, "--bind", "tcp://127.0.0.1:*", "--workers", "1",
         "--target", url, "--duration", "60s", "--out", dir() + "/lost", "--quiet"},
        dir() + "/coord-lost.log");
  const std::string ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  start_worker(w, ep, "lost");
  // Load is flowing once the coordinator's timeseries has intervals.
  bool flowing = false;
  for (int i = 0; i < 300 && !flowing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string ts = slurp(dir() + "/lost/timeseries.csv");
    flowing = std::count(ts.begin(), ts.end(), '\n') >= 3;
  }
  ASSERT_TRUE(flowing) << slurp(coord.out) << slurp(w.out);
  ::kill(coord.pid, SIGKILL);
  EXPECT_EQ(wait_exit(coord, 10), 128 + SIGKILL);
  // Silence while running is judged after 3 s: well within 20 s the worker has given up.
  EXPECT_EQ(wait_exit(w, 20), 5) << slurp(w.out);
  EXPECT_NE(slurp(w.out).find("abandoned"), std::string::npos) << slurp(w.out);
}

}  // namespace
