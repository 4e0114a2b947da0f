// The client's own health in every result (issue 15 point 3), end to end: a run with two local
// workers has both in summary.json run.workers[] with their peak RSS, the report has the
// "client health" box, and /metrics serves the standard process metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "process_util.h"

namespace {

using llmload_test::kQuickstart;
using llmload_test::free_port;
using llmload_test::Proc;
using llmload_test::slurp;
using llmload_test::spawn;
using llmload_test::test_dir;
using llmload_test::wait_exit;
using llmload_test::wait_for;

// One HTTP/1.0 GET on loopback: the body ("" when the connection failed). Bounded by timeouts.
std::string http_get_body(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  std::string resp;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size())) {
      char buf[8192];
      for (int i = 0; i < 10000; ++i) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        resp.append(buf, size_t(n));
      }
    }
  }
  ::close(fd);
  const size_t head_end = resp.find("\r\n\r\n");
  return head_end == std::string::npos ? "" : resp.substr(head_end + 4);
}

TEST(ClientHealth, TwoLocalWorkersEachReportTheirHealth) {
  const std::string dir = test_dir("client-health");
  const int metrics_port = free_port();
  ASSERT_GT(metrics_port, 0);
  Proc run;
  spawn(run,
        {"llmload", "run", kQuickstart, "--workers", "2", "--out", dir + "/r", "--prometheus",
         "127.0.0.1:" + std::to_string(metrics_port), "--prometheus-linger", "30s"},
        dir + "/run.log");
  ASSERT_NE(wait_for(run, "keeping /metrics up", 90), "") << slurp(dir + "/run.log");
  const std::string metrics = http_get_body(metrics_port, "/metrics");
  ::kill(run.pid, SIGTERM);
  EXPECT_EQ(wait_exit(run, 20), 0) << slurp(dir + "/run.log");

  // /metrics: the serving process's own memory and CPU beside the loop lag gauge.
  for (const char* name : {"\nprocess_resident_memory_bytes ", "\nprocess_cpu_seconds_total ",
                           "\nllmload_loop_lag_seconds "}) {
    const size_t at = metrics.find(name);
    ASSERT_NE(at, std::string::npos) << name << " not in:\n" << metrics;
    EXPECT_GT(std::stod(metrics.substr(at + std::strlen(name))), name[1] == 'l' ? -1.0 : 0.0)
        << name;
  }

  auto j = nlohmann::json::parse(slurp(dir + "/r/summary.json"));
  const auto& workers = j["run"]["workers"];
  ASSERT_EQ(workers.size(), 2u) << j["run"];
  int64_t largest = 0;
  for (const auto& w : workers) {
    EXPECT_GT(w["peak_rss_bytes"].get<int64_t>(), 0) << w;
    EXPECT_GT(w["reads_per_token"].get<double>(), 0.0) << w;  // each worker read tokens
    EXPECT_NE(w["timestamps"], "none") << w;
    EXPECT_GE(w["loop_lag_ms_p99"].get<double>(), 0.0) << w;
    largest = std::max(largest, w["peak_rss_bytes"].get<int64_t>());
  }
  EXPECT_EQ(j["run"]["client"]["peak_rss_bytes"].get<int64_t>(), largest);
  EXPECT_NE(slurp(dir + "/run.log").find("client: peak RSS "), std::string::npos)
      << slurp(dir + "/run.log");

  const std::string html = slurp(dir + "/r/report.html");
  EXPECT_NE(html.find("<h2>Client health</h2>"), std::string::npos);
  for (const auto& w : workers)
    EXPECT_NE(html.find(w["id"].get<std::string>() + " on "), std::string::npos) << w["id"];
  std::filesystem::remove_all(dir);
}

}  // namespace
