// Distributed runs between real processes on loopback, when things go wrong: the coordinator
// SIGKILLed mid-run, garbage and oversized messages at its port. Plus the fast smoke test the
// ASan CI job runs (one worker over TCP).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <nlohmann/json.hpp>
#include <random>
#include <zmq.hpp>

#include "common/hdr_histogram.h"
#include "common/hdr_log.h"
#include "common/metrics.h"
#include "tests/integration/process_util.h"

namespace {

using namespace llmload_test;

std::string dir() {
  static std::string d = test_dir("dist-faults");
  return d;
}

// Starts a coordinator on an ephemeral loopback port; returns its endpoint ("" on failure).
std::string start_coordinator(Proc& coord, const std::string& name, int workers,
                              const std::string& target, std::vector<std::string> extra,
                              const std::string& bind = "tcp://127.0.0.1:*") {
  std::vector<std::string> args = {"llmload",
                                   "coordinator",
                                   kQuickstart,
                                   "--bind",
                                   bind,
                                   "--workers",
                                   std::to_string(workers),
                                   "--target",
                                   target,
                                   "--out",
                                   dir() + "/" + name,
                                   "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  spawn(coord, args, dir() + "/" + name + ".log");
  return wait_for(coord, "listening on (tcp://127\\.0\\.0\\.1:[0-9]+)");
}

void start_worker(Proc& w, const std::string& ep, const std::string& id) {
  spawn(w, {"llmload", "worker", "--connect", ep, "--threads", "1", "--id", id},
        dir() + "/" + id + ".log");
}

TEST(DistributedSmoke, OneWorkerOverTcp) {
  Proc mock, coord, w1;
  const std::string url = start_mock(mock, dir() + "/smoke-mock.log");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string ep = start_coordinator(coord, "smoke", 1, url, {"--requests", "20"});
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  start_worker(w1, ep, "smoke-w1");
  ASSERT_EQ(wait_exit(coord, 60), 0) << slurp(coord.out) << slurp(w1.out);
  auto j = nlohmann::json::parse(slurp(dir() + "/smoke/summary.json"));
  EXPECT_EQ(j["run"]["status"], "completed");
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 20);
  EXPECT_EQ(j["totals"]["failed"].get<int64_t>(), 0);
  ASSERT_EQ(j["run"]["workers"].size(), 1u);
  // The hlog's ttft intervals add up to the run's ttft histogram.
  auto hlog = llmload::read_hdr_log_file(dir() + "/smoke/histograms.hlog");
  ASSERT_TRUE(hlog.ok()) << hlog.error();
  llmload::HdrHistogram sum = llmload::make_histogram(llmload::Metric::kTtft);
  for (const auto& h : hlog->intervals)
    if (h.tag == "ttft") sum.add(h);
  auto ttft = llmload::HdrHistogram::from_base64(j["metrics"]["ttft"]["hdr"].get<std::string>());
  ASSERT_TRUE(ttft.ok()) << ttft.error();
  EXPECT_EQ(sum.total_count(), 20);
  EXPECT_TRUE(sum == *ttft);
}

// received_ns of every request in a mock --truth log.
std::vector<int64_t> truth_received(const std::string& path) {
  std::vector<int64_t> out;
  std::stringstream ss(slurp(path));
  for (std::string line; std::getline(ss, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("received_ns")) continue;
    out.push_back(j["received_ns"].get<int64_t>());
  }
  return out;
}

// Load is flowing once the run's timeseries (results directory `name`) has intervals: waits up
// to 15 s for 3 of its lines.
bool load_flowing(const std::string& name) {
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::stringstream ts(slurp(dir() + "/" + name + "/timeseries.csv"));
    int rows = 0;
    for (std::string l; std::getline(ts, l);) rows += !l.empty();
    if (rows >= 3) return true;
  }
  return false;
}

// SIGKILL on the coordinator mid-run: the workers notice the silence, stop their load (no
// request reaches the mock more than 5 s after the kill) and wait for the next coordinator,
// which can run with them at once.
TEST(DistributedFaults, CoordinatorKilledMidRunWorkersStopAndWait) {
  Proc mock, coord, w1, w2;
  const std::string truth = dir() + "/kill-truth.jsonl";
  const std::string url =
      start_mock(mock, dir() + "/kill-mock.log", {"--itl", "20ms", "--truth", truth});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string ep = start_coordinator(coord, "kill", 2, url, {"--duration", "60s"});
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  start_worker(w1, ep, "kill-w1");
  start_worker(w2, ep, "kill-w2");
  ASSERT_TRUE(load_flowing("kill")) << slurp(coord.out) << slurp(w1.out);
  ::kill(coord.pid, SIGKILL);
  const int64_t killed_ns = mono_ns();
  EXPECT_EQ(wait_exit(coord, 10), 128 + SIGKILL);

  // Both workers give up on it and stay up.
  EXPECT_FALSE(wait_for(w1, "(coordinator silent)", 15).empty()) << slurp(w1.out);
  EXPECT_FALSE(wait_for(w2, "(coordinator silent)", 15).empty()) << slurp(w2.out);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // now well past kill + 5 s
  int status = 0;
  EXPECT_EQ(::waitpid(w1.pid, &status, WNOHANG), 0) << "worker 1 exited";
  EXPECT_EQ(::waitpid(w2.pid, &status, WNOHANG), 0) << "worker 2 exited";

  // A new coordinator on the same port gets both workers for a new run.
  Proc coord2;
  const int64_t second_run_from = mono_ns();
  ASSERT_GT(second_run_from, killed_ns + 5'000'000'000);
  const std::string ep2 = start_coordinator(coord2, "kill-again", 2, url, {"--requests", "10"}, ep);
  ASSERT_EQ(ep2, ep) << slurp(coord2.out);
  ASSERT_EQ(wait_exit(coord2, 60), 0) << slurp(coord2.out) << slurp(w1.out) << slurp(w2.out);
  const int64_t second_run_done_ns = mono_ns();
  auto j = nlohmann::json::parse(slurp(dir() + "/kill-again/summary.json"));
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 10);

  // The truth log, flushed by a clean mock shutdown.
  ::kill(mock.pid, SIGTERM);
  ASSERT_EQ(wait_exit(mock, 20), 0) << slurp(mock.out);
  const auto received = truth_received(truth);
  int before = 0, runaway = 0, second_run = 0;
  for (int64_t r : received) {
    if (r <= killed_ns)
      ++before;
    else if (r > killed_ns + 5'000'000'000 && r < second_run_from)
      ++runaway;
    else if (r >= second_run_from && r <= second_run_done_ns)
      ++second_run;
  }
  EXPECT_GT(before, 0) << "load was running before the kill";
  EXPECT_EQ(runaway, 0) << "requests started more than 5 s after the coordinator died";
  EXPECT_GE(second_run, 10) << "the second run's requests (and its pre-flight)";
}

// A coordinator that is only slow (here: stopped for 4 s, longer than a worker waits for it):
// the workers stop their load and say so (their final REPORT and DONE "stopped: ..."), and the
// run, which did not get the load it asked for, ends partial (exit 5), their data kept; never
// "completed".
TEST(DistributedFaults, WorkersThatStopOnASilentCoordinatorMakeTheRunPartial) {
  Proc mock, coord, w1;
  const std::string url = start_mock(mock, dir() + "/stall-mock.log", {"--itl", "20ms"});
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string ep = start_coordinator(coord, "stall", 1, url, {"--duration", "12s"});
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  start_worker(w1, ep, "stall-w1");
  ASSERT_TRUE(load_flowing("stall")) << slurp(coord.out) << slurp(w1.out);
  ::kill(coord.pid, SIGSTOP);
  const bool stopped = !wait_for(w1, "(coordinator silent)", 15).empty();
  ::kill(coord.pid, SIGCONT);
  ASSERT_TRUE(stopped) << slurp(w1.out);
  EXPECT_EQ(wait_exit(coord, 40), 5) << slurp(coord.out);
  auto j = nlohmann::json::parse(slurp(dir() + "/stall/summary.json"));
  EXPECT_EQ(j["run"]["status"], "partial");
  EXPECT_EQ(j["run"]["workers"][0]["status"], "lost") << j["run"]["workers"].dump();
  EXPECT_GT(j["totals"]["requests"].get<int64_t>(), 0) << "its measurements are kept";
  ::kill(w1.pid, SIGTERM);
  wait_exit(w1, 20);
  ::kill(mock.pid, SIGTERM);
  wait_exit(mock, 20);
}

// Sends raw bytes over a fresh TCP connection, then closes it.
void send_raw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  (void)!::write(fd, bytes.data(), bytes.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::close(fd);
}

// Garbage at the coordinator's port (raw TCP bytes, a ZMTP greeting announcing a huge frame,
// well-framed messages of nonsense, a message above ZMQ_MAXMSGSIZE) changes nothing: the run
// completes with its real worker and the right totals.
TEST(DistributedFaults, GarbageAndOversizedMessagesChangeNothing) {
  Proc mock, coord, w1;
  const std::string url = start_mock(mock, dir() + "/garbage-mock.log");
  ASSERT_FALSE(url.empty()) << slurp(mock.out);
  const std::string ep = start_coordinator(coord, "garbage", 1, url, {"--requests", "30"});
  ASSERT_FALSE(ep.empty()) << slurp(coord.out);
  const int port = port_of(ep);

  std::mt19937 rng(7);
  std::string noise(64 * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  send_raw(port, noise);
  // A ZMTP 3 greeting, then a long frame claiming 2^62 bytes.
  std::string greeting("\xff\0\0\0\0\0\0\0\x01\x7f\x03\x00NULL", 16);
  greeting.resize(64, '\0');
  greeting += std::string("\x02\x40\0\0\0\0\0\0\0", 9) + std::string(1000, 'x');
  send_raw(port, greeting);

  {
    zmq::context_t ctx(1);
    zmq::socket_t d(ctx, zmq::socket_type::dealer);
    d.set(zmq::sockopt::linger, 2000);
    d.connect(ep);
    for (int i = 0; i < 50; ++i) {
      std::string type(1 + rng() % 8, '\0'), body(rng() % 512, '\0');
      for (char& c : type) c = static_cast<char>(rng());
      for (char& c : body) c = static_cast<char>(rng());
      d.send(zmq::buffer(type), zmq::send_flags::sndmore);
      d.send(zmq::buffer(body), zmq::send_flags::none);
    }
    // Known type names with bodies that are not MessagePack, and a lone frame.
    for (const char* t : {"HELLO", "REPORT", "PONG", "DONE"}) {
      d.send(zmq::buffer(std::string(t)), zmq::send_flags::sndmore);
      d.send(zmq::buffer(std::string("\xc1\xc1\xc1 not msgpack")), zmq::send_flags::none);
    }
    d.send(zmq::buffer(std::string("HELLO")), zmq::send_flags::none);
    // Above the coordinator's 64 MiB ZMQ_MAXMSGSIZE: it drops the connection, nothing else.
    std::string huge((65u << 20) + 1, 'z');
    d.send(zmq::buffer(std::string("REPORT")), zmq::send_flags::sndmore);
    d.send(zmq::buffer(huge), zmq::send_flags::none);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(coord.pid, &status, WNOHANG), 0) << "coordinator died: " << slurp(coord.out);

  start_worker(w1, ep, "garbage-w1");
  ASSERT_EQ(wait_exit(coord, 60), 0) << slurp(coord.out) << slurp(w1.out);
  auto j = nlohmann::json::parse(slurp(dir() + "/garbage/summary.json"));
  EXPECT_EQ(j["run"]["status"], "completed");
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(), 30);
  EXPECT_EQ(j["totals"]["ok"].get<int64_t>(), 30);
  ASSERT_EQ(j["run"]["workers"].size(), 1u) << "only the real worker joined";
}

}  // namespace
