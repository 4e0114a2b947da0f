// `llmload sweep --bind`: every step a full run on remote `llmload worker` processes, the
// coordinator bound once for the whole sweep (issue 18 point 1). Real processes on loopback: a
// mock, two workers and the sweep; every wait bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;
namespace fs = std::filesystem;

std::string dir() {
  static std::string d = test_dir("sweep-remote");
  return d;
}

// A short scenario against `url`: each step sends `limit` (a YAML load line, e.g.
// "requests: 30" or "duration: 4s").
std::string write_scenario(const std::string& name, const std::string& url,
                           const std::string& limit) {
  const std::string path = dir() + "/" + name + ".yaml";
  std::ofstream(path) << "name: " << name << "\ntarget:\n  url: " << url
                      << "\n  api: openai-chat\n  model: m\n"
                         "load:\n  concurrency: 1\n  "
                      << limit
                      << "\n  grace: 5s\n"
                         "prompts:\n  source: synthetic\n"
                         "  input_tokens: {dist: fixed, value: 16}\n"
                         "output:\n  max_tokens: 8\n";
  return path;
}

void start_worker(Proc& w, const std::string& ep, const std::string& id) {
  spawn(w, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", id},
        dir() + "/" + id + ".log");
}

// The step directories of a sweep, by name (step-01-c1, ...).
std::vector<fs::path> step_dirs(const std::string& out) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(out))
    if (e.is_directory() && e.path().filename().string().rfind("step-", 0) == 0)
      v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

int64_t count_lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

TEST(SweepRemote, ThreeStepsOnTwoWorkersEachACompleteRun) {
  Proc mock, sweep, w1, w2;
  const std::string url =
      start_mock(mock, dir() + "/mock1.log", {"--ttft", "10ms", "--itl", "2ms"});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string out = dir() + "/three";
  spawn(sweep,
        {"llmload", "sweep", write_scenario("three", url, "requests: 30"), "--bind",
         "tcp://127.0.0.1:*", "--workers", "2", "--concurrency", "2,4,8", "--assert",
         "error_rate < 0.01", "--out", out, "--quiet"},
        dir() + "/three.log");
  const std::string ep = wait_for(sweep, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(sweep.out);
  start_worker(w1, ep, "three-w1");
  start_worker(w2, ep, "three-w2");
  ASSERT_EQ(wait_exit(sweep, 120), 0) << slurp(sweep.out) << slurp(w1.out) << slurp(w2.out);

  const std::vector<fs::path> steps = step_dirs(out);
  ASSERT_EQ(steps.size(), 3u) << slurp(sweep.out);
  for (const fs::path& step : steps) {
    SCOPED_TRACE(step.string());
    for (const char* f : {"summary.json", "summary.csv", "timeseries.csv", "histograms.hlog"})
      EXPECT_TRUE(fs::exists(step / f)) << f;
    auto j = nlohmann::json::parse(slurp((step / "summary.json").string()));
    EXPECT_EQ(j["run"]["status"], "completed");
    EXPECT_EQ(j["totals"]["requests"].get<int64_t>(), 30);
    EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 30);
    // Both workers ran every step, and the merged totals are the sum of theirs.
    ASSERT_EQ(j["run"]["workers"].size(), 2u);
    int64_t requests = 0, ok = 0, tokens = 0;
    for (const auto& w : j["run"]["workers"]) {
      EXPECT_EQ(w["status"], "ok") << w["id"];
      EXPECT_GT(w["totals"]["requests"].get<int64_t>(), 0) << w["id"];
      requests += w["totals"]["requests"].get<int64_t>();
      ok += w["totals"]["ok"].get<int64_t>();
      tokens += w["totals"]["output_tokens"].get<int64_t>();
    }
    EXPECT_EQ(requests, j["totals"]["requests"].get<int64_t>());
    EXPECT_EQ(ok, j["totals"]["ok"].get<int64_t>());
    EXPECT_EQ(tokens, j["totals"]["output_tokens"].get<int64_t>());
  }
  const std::string csv = slurp(out + "/sweep.csv");
  EXPECT_EQ(count_lines(csv), 4) << csv;  // header + three rows
  EXPECT_NE(csv.find("\n2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n4,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n8,"), std::string::npos) << csv;
  EXPECT_TRUE(fs::exists(out + "/report.html"));
  const std::string log = slurp(sweep.out);
  EXPECT_NE(log.find("answer: concurrency "), std::string::npos) << log;
  EXPECT_EQ(log.find("lost worker"), std::string::npos) << log;
  // The workers stayed connected: one session each for the three steps (one attach), told BYE
  // when the sweep ended; still up, waiting for the next coordinator.
  for (Proc* w : {&w1, &w2}) {
    const std::string wlog = slurp(w->out);
    size_t attaches = 0;
    for (size_t p = wlog.find("attached to "); p != std::string::npos;
         p = wlog.find("attached to ", p + 1))
      ++attaches;
    EXPECT_EQ(attaches, 1u) << wlog;
  }
  EXPECT_NE(log.find("still attached [2/2]"), std::string::npos) << log;
  int status = 0;
  EXPECT_EQ(::waitpid(w1.pid, &status, WNOHANG), 0) << slurp(w1.out);
  EXPECT_EQ(::waitpid(w2.pid, &status, WNOHANG), 0) << slurp(w2.out);
}

TEST(SweepRemote, AWorkerKilledInStepTwoMakesItPartialAndStepThreeRunsOnTheOneLeft) {
  Proc mock, sweep, w1, w2;
  const std::string url =
      start_mock(mock, dir() + "/mock2.log", {"--ttft", "10ms", "--itl", "2ms"});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string out = dir() + "/killed";
  spawn(sweep,
        {"llmload", "sweep", write_scenario("killed", url, "duration: 4s"), "--bind",
         "tcp://127.0.0.1:*", "--workers", "2", "--concurrency", "2,4,6", "--out", out, "--quiet"},
        dir() + "/killed.log");
  const std::string ep = wait_for(sweep, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(sweep.out);
  start_worker(w1, ep, "kill-w1");
  start_worker(w2, ep, "kill-w2");
  ASSERT_FALSE(wait_for(sweep, "(=== sweep step 2)", 60).empty()) << slurp(sweep.out);
  // Step 2's load has started (GO) once its workers are told the start: then kill one.
  ASSERT_FALSE(wait_for(sweep, "(sweep step 2[\\s\\S]*load starts in)", 30).empty())
      << slurp(sweep.out);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ::kill(w2.pid, SIGKILL);
  ::waitpid(w2.pid, nullptr, 0);
  w2.pid = -1;
  // A partial step gives the sweep exit 5; it still ran step 3.
  ASSERT_EQ(wait_exit(sweep, 120), 5) << slurp(sweep.out) << slurp(w1.out);

  const std::vector<fs::path> steps = step_dirs(out);
  ASSERT_EQ(steps.size(), 3u) << slurp(sweep.out);
  auto summary = [&](int i) {
    return nlohmann::json::parse(slurp((steps[size_t(i)] / "summary.json").string()));
  };
  auto s1 = summary(0), s2 = summary(1), s3 = summary(2);
  EXPECT_EQ(s1["run"]["status"], "completed");
  EXPECT_EQ(s1["run"]["workers"].size(), 2u);
  EXPECT_EQ(s2["run"]["status"], "partial");
  ASSERT_EQ(s2["run"]["workers"].size(), 2u);
  for (const auto& w : s2["run"]["workers"])
    EXPECT_EQ(w["status"], w["id"] == "kill-w2" ? "lost" : "ok") << w["id"];
  EXPECT_EQ(s3["run"]["status"], "completed");
  ASSERT_EQ(s3["run"]["workers"].size(), 1u);
  EXPECT_EQ(s3["run"]["workers"][0]["id"], "kill-w1");
  EXPECT_EQ(s3["run"]["workers"][0]["totals"]["requests"], s3["totals"]["requests"]);
  EXPECT_GT(s3["totals"]["ok"].get<int64_t>(), 0);

  const std::string log = slurp(sweep.out);
  EXPECT_NE(log.find("=== sweep step 2: partial: lost worker(s) kill-w2"), std::string::npos)
      << log;
  EXPECT_NE(log.find("=== sweep step 3: concurrency 6 on 1 of 2 worker(s) asked for"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("step 2 (concurrency 4): partial: lost worker kill-w2"), std::string::npos)
      << log;
  EXPECT_NE(log.find("step 3 (concurrency 6): ran on 1 of 2 worker(s) asked for"),
            std::string::npos)
      << log;
  const std::string csv = slurp(out + "/sweep.csv");
  EXPECT_EQ(count_lines(csv), 4) << csv;
  EXPECT_NE(csv.find(",2,2,kill-w2,"), std::string::npos) << csv;  // asked, ran, lost
  EXPECT_NE(csv.find(",2,1,,"), std::string::npos) << csv;
  // The sweep report says so too.
  const std::string html = slurp(out + "/report.html");
  EXPECT_NE(html.find("step 2 (concurrency 4): partial: lost worker kill-w2"), std::string::npos);
  EXPECT_NE(html.find("step 3 (concurrency 6): ran on 1 of 2 worker(s) asked for"),
            std::string::npos);
  // Nothing sends load once the sweep is over: the worker left is idle and still up.
  int status = 0;
  EXPECT_EQ(::waitpid(w1.pid, &status, WNOHANG), 0) << slurp(w1.out);
}

// SIGTERM during a step: that step ends (aborted, its results written), no further step runs,
// and the workers stop their load.
TEST(SweepRemote, SigtermDuringAStepEndsItAndTheSweep) {
  Proc mock, sweep, w1;
  const std::string truth = dir() + "/term-truth.jsonl";
  const std::string url =
      start_mock(mock, dir() + "/mock3.log", {"--ttft", "10ms", "--itl", "2ms", "--truth", truth});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string out = dir() + "/term";
  spawn(sweep,
        {"llmload", "sweep", write_scenario("term", url, "duration: 30s"), "--bind",
         "tcp://127.0.0.1:*", "--workers", "1", "--concurrency", "1,2,4", "--out", out, "--quiet"},
        dir() + "/term.log");
  const std::string ep = wait_for(sweep, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_FALSE(ep.empty()) << slurp(sweep.out);
  start_worker(w1, ep, "term-w1");
  ASSERT_FALSE(wait_for(sweep, "(load starts in)", 30).empty()) << slurp(sweep.out);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(sweep.pid, SIGTERM);
  EXPECT_EQ(wait_exit(sweep, 40), 4) << slurp(sweep.out);
  const std::vector<fs::path> steps = step_dirs(out);
  ASSERT_EQ(steps.size(), 1u) << slurp(sweep.out);
  auto j = nlohmann::json::parse(slurp((steps[0] / "summary.json").string()));
  EXPECT_EQ(j["run"]["status"], "aborted");
  EXPECT_GT(j["totals"]["requests"].get<int64_t>(), 0);
  EXPECT_NE(slurp(out + "/sweep.csv").find("\n1,"), std::string::npos);
  // No request reaches the mock once the sweep is over (its truth log stops growing), and the
  // worker is still up, idle.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int64_t served = count_lines(slurp(truth));
  EXPECT_GT(served, 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(count_lines(slurp(truth)), served);
  int status = 0;
  EXPECT_EQ(::waitpid(w1.pid, &status, WNOHANG), 0) << slurp(w1.out);
}

// Remote-only flags without --bind, and local-only flags with it, are refused before anything
// binds or runs (exit 2), naming the flags.
TEST(SweepRemote, RefusesFlagsOfTheOtherMode) {
  const std::string scenario = write_scenario("flags", "http://127.0.0.1:9", "requests: 1");
  auto [code, log] = run_to_end({"llmload", "sweep", scenario, "--concurrency", "1", "--curve-key",
                                 dir() + "/nokey", "--out", dir() + "/flags1"},
                                dir() + "/flags1.log", 30);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("--curve-key, --allow-keys and --allow-insecure are for remote workers: "
                     "give --bind too"),
            std::string::npos)
      << log;
  std::tie(code, log) =
      run_to_end({"llmload", "sweep", scenario, "--concurrency", "1", "--bind", "tcp://127.0.0.1:*",
                  "--threads", "2", "--out", dir() + "/flags2"},
                 dir() + "/flags2.log", 30);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("--threads and --timestamps are for local workers"), std::string::npos) << log;
  std::tie(code, log) =
      run_to_end({"llmload", "sweep", scenario, "--concurrency", "1", "--bind", "tcp://127.0.0.1:*",
                  "--join-timeout", "soon", "--out", dir() + "/flags3"},
                 dir() + "/flags3.log", 30);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("llmload sweep: --join-timeout: "), std::string::npos) << log;
  // A non-loopback bind without CURVE: the coordinator's own refusal.
  std::tie(code, log) = run_to_end({"llmload", "sweep", scenario, "--concurrency", "1", "--bind",
                                    "tcp://0.0.0.0:*", "--out", dir() + "/flags4"},
                                   dir() + "/flags4.log", 30);
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("not a loopback address, and no CURVE keys given"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir() + "/flags4/sweep.csv"));
}

}  // namespace
