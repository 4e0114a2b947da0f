// The start protocol with real processes on loopback (issue: workers declared lost that still
// sent load). RUN, then every pre-flight verdict, then GO: a worker sends load only after GO.
// Checked by counting at the mock (its truth log holds every request it received):
//  - many worker processes starting together on two cores all join, pass and run, and the
//    result's totals equal the server's own count (the bench runs 50, 100 and 200 of them:
//    bench/distributed_start.sh);
//  - a worker whose verdict comes too late (frozen with SIGSTOP from RUN until after the start)
//    is counted lost by name, never started, and sends nothing: the server's count equals the
//    result's, before and after the frozen worker is let go.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;

struct Served {
  int64_t generations = 0;  // chat completions received (every outcome)
  int64_t preflights = 0;   // GET /v1/models
};

Served count_truth(const std::string& path) {
  Served s;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    const std::string p = j.value("path", "");
    if (p == "/v1/chat/completions") ++s.generations;
    if (p == "/v1/models") ++s.preflights;
  }
  return s;
}

nlohmann::json summary_of(const std::string& dir) {
  return nlohmann::json::parse(slurp(dir + "/summary.json"), nullptr, false);
}

// Stops the mock (SIGTERM: it flushes its truth log) and waits for it.
void stop_mock(Proc& mock) {
  ::kill(mock.pid, SIGTERM);
  wait_exit(mock, 10);
}

// A mock with a truth log and a coordinator for `workers` on an ephemeral port, both in `d`;
// `extra`: the coordinator's load flags. ep: the coordinator's endpoint ("" if it did not start).
struct Cluster {
  Proc mock, coord;
  std::string truth, url, ep;
  Cluster(const std::string& d, int workers, const std::vector<std::string>& extra) {
    truth = d + "/truth.jsonl";
    url = start_mock(mock, d + "/mock.log", {"--ttft", "20ms", "--itl", "5ms", "--truth", truth});
    if (url.empty()) return;
    std::vector<std::string> args = {"llmload",
                                     "coordinator",
                                     kQuickstart,
                                     "--bind",
                                     "tcp://127.0.0.1:*",
                                     "--workers",
                                     std::to_string(workers),
                                     "--target",
                                     url,
                                     "--quiet",
                                     "--no-report",
                                     "--out",
                                     d + "/out"};
    args.insert(args.end(), extra.begin(), extra.end());
    spawn(coord, args, d + "/coord.log");
    ep = wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  }
};

TEST(DistributedStart, TwentyWorkerProcessesRunAndTheTotalsEqualTheServersCount) {
  constexpr int kWorkers = 20;
  const std::string d = test_dir("dist-start-many");
  Cluster st(d, kWorkers, {"--concurrency", std::to_string(2 * kWorkers), "--duration", "3s"});
  ASSERT_FALSE(st.url.empty());
  ASSERT_FALSE(st.ep.empty()) << slurp(st.coord.out);
  std::vector<std::unique_ptr<Proc>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(std::make_unique<Proc>());
    spawn(*workers.back(),
          {"llmload", "worker", "--connect", st.ep, "--threads", "1", "--id",
           "w" + std::to_string(i)},
          d + "/w" + std::to_string(i) + ".log");
  }
  const int code = wait_exit(st.coord, 120);
  for (auto& w : workers) {
    ::kill(w->pid, SIGTERM);
    wait_exit(*w, 20);
  }
  stop_mock(st.mock);
  ASSERT_EQ(code, 0) << slurp(st.coord.out);
  auto j = summary_of(d + "/out");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["run"]["workers"].size(), size_t(kWorkers));
  for (const auto& w : j["run"]["workers"]) EXPECT_EQ(w["status"], "ok") << w.dump();
  const Served s = count_truth(st.truth);
  EXPECT_EQ(s.preflights, kWorkers);
  EXPECT_GT(j["totals"]["ok"].get<int64_t>(), 0);
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(), s.generations)
      << "the server received requests the result does not count";
}

TEST(DistributedStart, AWorkerWhoseVerdictIsTooLateIsNeverStartedAndSendsNothing) {
  const std::string d = test_dir("dist-start-late");
  Cluster st(d, 2, {"--concurrency", "4", "--duration", "3s", "--preflight-timeout", "1s"});
  ASSERT_FALSE(st.url.empty());
  ASSERT_FALSE(st.ep.empty()) << slurp(st.coord.out);
  Proc good, late;
  // The late worker joins first and is frozen before the run can start (the coordinator sends
  // RUN once every worker has joined): its verdict cannot come within --preflight-timeout.
  spawn(late, {"llmload", "worker", "--connect", st.ep, "--threads", "1", "--id", "late"},
        d + "/late.log");
  ASSERT_FALSE(wait_for(st.coord, "(worker late .*joined)").empty()) << slurp(st.coord.out);
  ASSERT_FALSE(wait_for(late, "(attached to)").empty()) << slurp(late.out);
  ::kill(late.pid, SIGSTOP);
  spawn(good, {"llmload", "worker", "--connect", st.ep, "--threads", "1", "--id", "good"},
        d + "/good.log");
  ASSERT_FALSE(wait_for(st.coord, "(never answered)").empty()) << slurp(st.coord.out);
  ::kill(late.pid, SIGCONT);  // it now reads RUN (its pre-flight passes) and STOP
  const int code = wait_exit(st.coord, 60);
  ::kill(good.pid, SIGTERM);
  wait_exit(good, 20);
  // The late worker goes back to waiting: give it time to have sent anything it would send.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(late.pid, SIGTERM);
  wait_exit(late, 10);
  stop_mock(st.mock);
  EXPECT_EQ(code, 5) << slurp(st.coord.out);
  EXPECT_NE(slurp(st.coord.out).find("late on"), std::string::npos) << slurp(st.coord.out);
  auto j = summary_of(d + "/out");
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["run"]["workers"].size(), 2u);
  for (const auto& w : j["run"]["workers"]) {
    EXPECT_EQ(w["status"], w["id"] == "late" ? "lost" : "ok") << w.dump();
  }
  const Served s = count_truth(st.truth);
  EXPECT_GT(j["totals"]["ok"].get<int64_t>(), 0);
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(), s.generations)
      << "the late worker sent load nobody counts";
  EXPECT_NE(slurp(late.out).find("no load sent"), std::string::npos) << slurp(late.out);
  EXPECT_EQ(slurp(late.out).find("load starts"), std::string::npos) << slurp(late.out);
  EXPECT_NE(slurp(good.out).find("load starts"), std::string::npos) << slurp(good.out);
}

}  // namespace
