// Live metrics against the real thing: Debian's Prometheus server scrapes `llmload run
// --prometheus` (built-in mock, fixed TTFT per model so the answer is known) every second, and
// its HTTP API's histogram_quantile p95 TTFT by model must agree with summary.json's p95 within
// the width of the bucket holding it. --prometheus-linger keeps /metrics up after the run so the
// last scrape holds the final numbers (the counts equal summary.json's exactly). promtool check
// metrics runs on a live scrape. Every process is killed in every path (Proc's destructor).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "analysis/observe/prometheus.h"
#include "tests/integration/process_util.h"

namespace llmload::analysis {
namespace {

using namespace llmload_test;
using json = nlohmann::json;

// Starts a program from PATH (not the llmload binary); output to `log_path`.
void spawn_program(Proc& p, const std::vector<std::string>& args, const std::string& log_path) {
  p.out = log_path;
  p.pid = ::fork();
  if (p.pid == 0) {
    FILE* f = std::freopen(log_path.c_str(), "w", stdout);
    (void)f;
    ::dup2(::fileno(stdout), 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
}

// One HTTP/1.0 GET on loopback (so the answer is never chunked): {status, body}; status 0 when
// the connection failed. Bounded by socket timeouts.
std::pair<int, std::string> http_get(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {0, ""};
  }
  std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
    ::close(fd);
    return {0, ""};
  }
  std::string resp;
  char buf[8192];
  for (int i = 0; i < 10000; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, size_t(n));
  }
  ::close(fd);
  size_t head_end = resp.find("\r\n\r\n");
  if (resp.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) return {0, ""};
  return {std::atoi(resp.c_str() + resp.find(' ') + 1), resp.substr(head_end + 4)};
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

// An instant query; the "result" array of a successful answer (empty on any failure).
json prom_query(int port, const std::string& promql, const std::string& time = "") {
  std::string target = "/api/v1/query?query=" + url_encode(promql);
  if (!time.empty()) target += "&time=" + time;
  auto [status, body] = http_get(port, target);
  if (status != 200) return json::array();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return json::array();
  return j["data"]["result"];
}

// Per model label: the sample value of a vector result.
std::map<std::string, double> by_model(const json& result) {
  std::map<std::string, double> out;
  for (const json& s : result)
    out[s["metric"].value("model", "")] = std::stod(s["value"][1].get<std::string>());
  return out;
}

// Width (seconds) of the TTFT bucket holding `v` seconds.
double bucket_width(double v) {
  const std::vector<double>& b = prometheus_buckets(Metric::kTtft);
  double lo = 0;
  for (double hi : b) {
    if (v <= hi) return hi - lo;
    lo = hi;
  }
  return INFINITY;
}

const json* group_for(const json& summary, const std::string& model) {
  for (const json& g : summary["groups"])
    if (g["labels"].value("model", "") == model) return &g;
  return nullptr;
}

TEST(PrometheusServer, HistogramQuantileByModelMatchesTheSummary) {
  ASSERT_EQ(std::system("command -v prometheus >/dev/null && command -v promtool >/dev/null"), 0)
      << "prometheus/promtool not found: scripts/setup.sh installs Debian's prometheus package "
         "(LLMLOAD_TEST_DEPS=1)";
  const std::string dir = test_dir("prom-server");
  const int metrics_port = free_port();
  const int prom_port = free_port();
  ASSERT_GT(metrics_port, 0);
  ASSERT_GT(prom_port, 0);
  ASSERT_NE(metrics_port, prom_port);

  // Two models on the built-in mock, each with its own fixed TTFT: 120 ms lies in the
  // (0.1, 0.15] bucket, 250 ms in (0.2, 0.3].
  const std::string scenario = dir + "/scenario.yaml";
  std::ofstream(scenario) << R"(name: prom-server
targets:
  - name: fast
    url: mock
    api: openai-chat
    model: fast-model
    headers: {x-mock-ttft: 120ms, x-mock-itl: 5ms, x-mock-tokens: "8"}
  - name: slow
    url: mock
    api: openai-chat
    model: slow-model
    headers: {x-mock-ttft: 250ms, x-mock-itl: 5ms, x-mock-tokens: "8"}
load:
  concurrency: 8
  duration: 4s
prompts:
  source: synthetic
  input_tokens: {dist: fixed, value: 16}
output:
  max_tokens: 8
)";
  // The alert rules: the shipped file, and those `llmload validate --alert-rules` makes for a
  // scenario's SLOs (one broken by this run, one kept). promtool checks both; Prometheus loads
  // and evaluates them every second while it scrapes the run.
  const std::string shipped_rules = std::string(LLMLOAD_SOURCE_DIR) + "/docs/grafana/llmload-alerts.yml";
  const std::string slo_rules = dir + "/slo-rules.yml";
  std::ofstream(dir + "/slo.yaml") << "name: prom-slo\n"
                                      "target: {url: mock, api: openai-chat, model: fast-model}\n"
                                      "load: {concurrency: 1, requests: 1}\n"
                                      "slo:\n  assert: ['ttft.p99 < 10ms', 'error_rate < 50%']\n";
  ASSERT_EQ(std::system((std::string(LLMLOAD_BINARY) + " validate " + dir + "/slo.yaml --alert-rules " +
                         slo_rules + " > " + dir + "/validate.log 2>&1")
                            .c_str()),
            0)
      << slurp(dir + "/validate.log");
  for (const std::string& rules : {shipped_rules, slo_rules})
    ASSERT_EQ(std::system(("promtool check rules " + rules + " > " + dir + "/rules.out 2>&1").c_str()),
              0)
        << rules << ":\n" << slurp(dir + "/rules.out");
  const std::string prom_yml = dir + "/prometheus.yml";
  std::ofstream(prom_yml) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                             "rule_files: ['" << shipped_rules << "', '" << slo_rules << "']\n"
                             "scrape_configs:\n  - job_name: llmload\n    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << metrics_port << "']\n";

  Proc prom;
  spawn_program(prom,
                {"prometheus", "--config.file=" + prom_yml, "--storage.tsdb.path=" + dir + "/tsdb",
                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
                dir + "/prometheus.log");
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {  // <= 30 s
    ready = http_get(prom_port, "/-/ready").first == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << "Prometheus never became ready:\n" << slurp(dir + "/prometheus.log");
  // Prometheus starts scraping a target only after its discovery's first update (throttled to
  // ~5 s after start-up): wait for its first scrape attempt (the target is down until the run
  // serves /metrics), so the run's zero series and its rise are all scraped.
  bool scraping = false;
  for (int i = 0; i < 300 && !scraping; ++i) {  // <= 30 s
    json t = json::parse(http_get(prom_port, "/api/v1/targets").second, nullptr, false);
    if (!t.is_discarded() && t.contains("data")) {
      for (const json& a : t["data"].value("activeTargets", json::array()))
        scraping = scraping || !a.value("lastScrape", "0001").starts_with("0001");
    }
    if (!scraping) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(scraping) << "Prometheus never scraped its target:\n"
                        << slurp(dir + "/prometheus.log");

  const std::string out = dir + "/results";
  Proc run;
  spawn(run,
        {"llmload", "run", scenario, "--out", out, "--quiet", "--no-report", "--prometheus",
         "127.0.0.1:" + std::to_string(metrics_port), "--prometheus-linger", "30s"},
        dir + "/run.log");
  ASSERT_NE(wait_for(run, "serving live metrics", 30), "") << slurp(dir + "/run.log");

  // A live scrape mid-run passes promtool.
  std::string live;
  for (int i = 0; i < 100 && live.find("llmload_ttft_seconds_bucket") == std::string::npos; ++i) {
    live = http_get(metrics_port, "/metrics").second;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(live.find("model=\"fast-model\""), std::string::npos) << live;
  std::ofstream(dir + "/live.prom") << live;
  EXPECT_EQ(
      std::system(("promtool check metrics < " + dir + "/live.prom > " + dir + "/promtool.out 2>&1")
                      .c_str()),
      0)
      << slurp(dir + "/promtool.out");

  // The run ends; summary.json is written before the linger starts.
  ASSERT_NE(wait_for(run, "keeping /metrics up", 60), "") << slurp(dir + "/run.log");
  json summary = json::parse(slurp(out + "/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << slurp(dir + "/run.log");
  ASSERT_EQ(summary["run"]["status"], "completed");

  // Wait (bounded) until Prometheus holds the final numbers: its ttft counts equal the summary's.
  std::map<std::string, int64_t> want_count;
  for (const char* m : {"fast-model", "slow-model"}) {
    const json* g = group_for(summary, m);
    ASSERT_NE(g, nullptr) << m;
    want_count[m] = (*g)["metrics"]["ttft"]["count"].get<int64_t>();
    ASSERT_GT(want_count[m], 4) << m;
  }
  std::string at;  // the timestamp of the final sample: later queries are evaluated there
  for (int i = 0; i < 150 && at.empty(); ++i) {  // <= 15 s (scrapes every 1 s)
    json r = prom_query(prom_port, "sum by (model) (llmload_ttft_seconds_count)");
    auto counts = by_model(r);
    if (counts.size() == 2 && int64_t(counts["fast-model"]) == want_count["fast-model"] &&
        int64_t(counts["slow-model"]) == want_count["slow-model"])
      at = r[0]["value"][0].dump();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(at.empty()) << "Prometheus never saw the final counts; log:\n"
                           << slurp(dir + "/prometheus.log");

  // The documented PromQL (rate over the run) and the cumulative form, by model.
  auto rate_q = by_model(prom_query(
      prom_port,
      "histogram_quantile(0.95, sum by (le, model) (rate(llmload_ttft_seconds_bucket[1m])))", at));
  auto total_q = by_model(prom_query(
      prom_port, "histogram_quantile(0.95, sum by (le, model) (llmload_ttft_seconds_bucket))", at));
  for (const char* m : {"fast-model", "slow-model"}) {
    const double p95_s = (*group_for(summary, m))["metrics"]["ttft"]["p95"].get<double>() / 1000.0;
    const double width = bucket_width(p95_s);
    ASSERT_TRUE(rate_q.count(m))
        << m << ": the samples Prometheus holds at " << at << ":\n"
        << prom_query(prom_port, "llmload_ttft_seconds_count[1m]", at).dump();
    ASSERT_TRUE(total_q.count(m)) << m;
    EXPECT_NEAR(rate_q[m], p95_s, width) << m << " rate(): summary p95 " << p95_s << " s";
    EXPECT_NEAR(total_q[m], p95_s, width) << m << " cumulative: summary p95 " << p95_s << " s";
  }
  // The scenario's fixed TTFTs are what was measured (a sanity check on the setup).
  EXPECT_NEAR(total_q["fast-model"], 0.12, 0.05);
  EXPECT_NEAR(total_q["slow-model"], 0.25, 0.1);

  // Every stage is a histogram: ttfb, connect and queue beside the latencies (plain HTTP: tls
  // is exposed with no values).
  for (const char* m : {"ttfb", "connect", "tls", "queue"})
    EXPECT_NE(live.find(std::string("llmload_") + m + "_seconds_bucket{"), std::string::npos) << m;
  auto ttfb = by_model(prom_query(prom_port, "sum by (model) (llmload_ttfb_seconds_count)", at));
  EXPECT_EQ(int64_t(ttfb["fast-model"]), want_count["fast-model"]);
  auto connect = prom_query(prom_port, "sum(llmload_connect_seconds_count)", at);
  ASSERT_EQ(connect.size(), 1u);
  EXPECT_GE(std::stod(connect[0]["value"][1].get<std::string>()), 1.0) << "connections were made";

  // The Grafana dashboard, without Grafana: every panel's PromQL, with its variables filled in
  // ($model: every model, as "All" does; $__rate_interval: 1m), returns data.
  const json dash = json::parse(
      slurp(std::string(LLMLOAD_SOURCE_DIR) + "/docs/grafana/llmload-dashboard.json"), nullptr, false);
  ASSERT_FALSE(dash.is_discarded());
  int queries = 0;
  for (const json& panel : dash["panels"]) {
    for (const json& target : panel.value("targets", json::array())) {
      std::string expr = target.value("expr", "");
      if (expr.empty()) continue;
      for (auto [from, to] : {std::pair<std::string, std::string>{"$model", ".+"},
                              {"$__rate_interval", "1m"}}) {
        for (size_t p = expr.find(from); p != std::string::npos; p = expr.find(from, p))
          expr.replace(p, from.size(), to);
      }
      EXPECT_EQ(expr.find('$'), std::string::npos) << "an unfilled variable: " << expr;
      const json r = prom_query(prom_port, expr, at);
      EXPECT_FALSE(r.empty()) << panel.value("title", "") << ": no data for " << expr;
      ++queries;
    }
  }
  EXPECT_GE(queries, 10);

  // The alert rules: Prometheus evaluated every one without error; the broken SLO's alert is
  // active (pending: its `for` has not passed), the kept one's is not.
  bool evaluated = false;
  json groups;
  for (int i = 0; i < 50 && !evaluated; ++i) {  // <= 5 s: one more evaluation round at most
    json r = json::parse(http_get(prom_port, "/api/v1/rules").second, nullptr, false);
    ASSERT_FALSE(r.is_discarded());
    groups = r["data"]["groups"];
    evaluated = groups.size() == 2;
    for (const json& g : groups)
      for (const json& rule : g["rules"])
        evaluated = evaluated && !rule.value("lastEvaluation", "0001").starts_with("0001");
    if (!evaluated) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(evaluated) << groups.dump();
  int rules = 0;
  for (const json& g : groups)
    for (const json& rule : g["rules"]) {
      EXPECT_EQ(rule["health"], "ok") << rule.dump();
      EXPECT_EQ(rule.value("lastError", ""), "") << rule.dump();
      ++rules;
    }
  EXPECT_EQ(rules, 7);
  std::set<std::string> active;
  for (int i = 0; i < 50 && !active.count("LlmloadSlo1"); ++i) {
    json a = json::parse(http_get(prom_port, "/api/v1/alerts").second, nullptr, false);
    active.clear();
    for (const json& alert : a["data"]["alerts"]) active.insert(alert["labels"]["alertname"]);
    if (!active.count("LlmloadSlo1")) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(active.count("LlmloadSlo1")) << "ttft.p99 < 10ms is broken by a 120 ms TTFT";
  EXPECT_FALSE(active.count("LlmloadSlo2")) << "error_rate < 50% holds";
  EXPECT_FALSE(active.count("LlmloadErrorRateHigh"));

  // A SIGTERM ends the linger early; the run's exit code stands.
  ::kill(run.pid, SIGTERM);
  EXPECT_EQ(wait_exit(run, 10), 0) << slurp(dir + "/run.log");
  std::filesystem::remove_all(dir);
}

TEST(PrometheusServer, LingerIsCheckedAndOnlyFollowsARunThatSentLoad) {
  const std::string dir = test_dir("prom-linger");
  auto [code, text] =
      run_to_end({"llmload", "run", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
                  "--out", dir + "/r", "--prometheus-linger", "5s"},
                 dir + "/run.log", 30);
  EXPECT_EQ(code, 2);
  EXPECT_NE(text.find("--prometheus-linger needs --prometheus"), std::string::npos) << text;
  auto [code2, text2] =
      run_to_end({"llmload", "run", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
                  "--out", dir + "/r", "--prometheus", "127.0.0.1:0", "--prometheus-linger", "2h"},
                 dir + "/run2.log", 30);
  EXPECT_EQ(code2, 2);
  EXPECT_NE(text2.find("--prometheus-linger '2h'"), std::string::npos) << text2;
  // A run that fails its pre-flight (nothing listens on the target) sent no load: no linger, so
  // it exits with 2 long before the 120 s asked for.
  const int dead = free_port();
  ASSERT_GT(dead, 0);
  auto [code3, text3] =
      run_to_end({"llmload", "run", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml",
                  "--out", dir + "/r3", "--target", "http://127.0.0.1:" + std::to_string(dead),
                  "--prometheus", "127.0.0.1:0", "--prometheus-linger", "120s"},
                 dir + "/run3.log", 60);
  EXPECT_EQ(code3, 2) << text3;
  EXPECT_EQ(text3.find("keeping /metrics up"), std::string::npos) << text3;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmload::analysis
