#include "analysis/observe/prometheus.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis/observe/metrics_server.h"

namespace llmload::analysis {
namespace {

// A strict reader of the text exposition format: every sample belongs to a family declared by
// # TYPE before it; names and label names are valid; values parse; label values are escaped.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value;
};

bool valid_name(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) return false;
  return true;
}

std::vector<Sample> parse_strict(const std::string& text,
                                 std::map<std::string, std::string>* types) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      EXPECT_TRUE(valid_name(name)) << line;
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
      EXPECT_EQ(types->count(name), 0u) << "family declared twice: " << name;
      (*types)[name] = type;
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    EXPECT_FALSE(line.empty() || line[0] == '#') << "unexpected line: " << line;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    EXPECT_TRUE(valid_name(s.name)) << line;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        EXPECT_TRUE(valid_name(key)) << line;
        EXPECT_EQ(line[eq + 1], '"') << line;
        std::string val;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            ++j;
            EXPECT_TRUE(line[j] == '\\' || line[j] == '"' || line[j] == 'n') << line;
            val += line[j] == 'n' ? '\n' : line[j];
            continue;
          }
          val += line[j];
        }
        s.labels[key] = val;
        i = j + 1;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    EXPECT_EQ(line[i], ' ') << line;
    char* end = nullptr;
    std::string v = line.substr(i + 1);
    s.value = std::strtod(v.c_str(), &end);
    EXPECT_EQ(*end, '\0') << "bad value in: " << line;
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!types->count(family) && family.size() > strlen(suffix) &&
          family.compare(family.size() - strlen(suffix), std::string::npos, suffix) == 0)
        family = family.substr(0, family.size() - strlen(suffix));
    EXPECT_TRUE(types->count(family)) << "sample before its # TYPE: " << line;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<GroupStats> sample_groups() {
  GroupStats a(Labels{{"model", "llama \"3\"\\8b"}, {"target", "http://h:1"}, {"team-x", "a\nb"}});
  for (int i = 1; i <= 1000; ++i) a.record(Metric::kTtft, i * 100);  // 0.1 .. 100 ms
  for (int i = 0; i < 50; ++i) a.record(Metric::kItl, 12'000);
  a.counters.requests = a.counters.ok = 1000;
  a.counters.output_tokens = 5000;
  GroupStats b(Labels{{"model", "other"}, {"target", "http://h:1"}, {"team-x", "z"}});
  b.record(Metric::kTtft, 2'500'000);
  b.record_error(ErrorKind::kHttp429, "rate limited");
  return {a, b};
}

TEST(Prometheus, ExpositionIsStrictlyValidWithCumulativeBuckets) {
  std::map<std::string, std::string> types;
  auto samples = parse_strict(prometheus_exposition(sample_groups(), {3, 2, 0.004}), &types);
  EXPECT_EQ(types["llmload_ttft_seconds"], "histogram");
  EXPECT_EQ(types["llmload_requests_total"], "counter");
  EXPECT_EQ(types["llmload_in_flight_requests"], "gauge");
  std::map<std::string, double> last;  // per series without le
  int buckets = 0;
  for (const Sample& s : samples) {
    if (s.name != "llmload_ttft_seconds_bucket") continue;
    ++buckets;
    std::string series = s.labels.at("model");
    EXPECT_GE(s.value, last[series]) << "buckets not cumulative";
    last[series] = s.value;
  }
  EXPECT_EQ(buckets, 2 * int(prometheus_buckets(Metric::kTtft).size() + 1));
  bool found_escape = false, found_429 = false;
  for (const Sample& s : samples) {
    if (s.name == "llmload_ttft_seconds_count" && s.labels.at("model") == "llama \"3\"\\8b") {
      EXPECT_EQ(s.value, 1000);
      EXPECT_EQ(s.labels.at("team_x"), "a\nb");  // name sanitized, value escaped and back
      found_escape = true;
    }
    if (s.name == "llmload_ttft_seconds_bucket" && s.labels.at("model") == "llama \"3\"\\8b" &&
        s.labels.at("le") == "0.05") {
      EXPECT_NEAR(s.value, 500, 1);  // values 0.1..100 ms: half are <= 50 ms
    }
    if (s.name == "llmload_errors_total" && s.labels.at("kind") == "http_429" &&
        s.labels.at("model") == "other") {
      EXPECT_EQ(s.value, 1);
      found_429 = true;
    }
    if (s.name == "llmload_in_flight_requests") {
      EXPECT_EQ(s.value, 3);
    }
  }
  EXPECT_TRUE(found_escape);
  EXPECT_TRUE(found_429);
}

TEST(Prometheus, LabelNamesAreSanitized) {
  EXPECT_EQ(prometheus_label_name("team-x"), "team_x");
  EXPECT_EQ(prometheus_label_name("9lives"), "_9lives");
  EXPECT_EQ(prometheus_label_name("__reserved"), "_reserved");
  EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

std::string http_get(int port, const char* path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(uint16_t(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string req = std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(write(fd, req.data(), req.size()), ssize_t(req.size()));
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, size_t(n));
  close(fd);
  return resp;
}

TEST(MetricsServer, ServesTheLatestTextOnMetricsOnly) {
  MetricsServer server;
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error();
  server.set_text("llmload_workers_alive 1\n");
  std::string r = http_get(*port, "/metrics");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_NE(r.find("version=0.0.4"), std::string::npos);
  EXPECT_NE(r.find("\r\n\r\nllmload_workers_alive 1\n"), std::string::npos);
  server.set_text("llmload_workers_alive 2\n");
  EXPECT_NE(http_get(*port, "/metrics").find("llmload_workers_alive 2"), std::string::npos);
  EXPECT_NE(http_get(*port, "/other").find("404"), std::string::npos);
  server.stop();
  MetricsServer bad;
  auto e = bad.start("nonsense");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("nonsense"), std::string::npos);
}

// The real thing: Debian's promtool (installed by scripts/test.sh) accepts our exposition.
TEST(Prometheus, PromtoolCheckMetricsPasses) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null"), 0)
      << "promtool not found: scripts/test.sh installs Debian's prometheus package";
  std::string path = ::testing::TempDir() + "/llmload_metrics.txt";
  std::ofstream(path) << prometheus_exposition(sample_groups(), {1, 1, 0.001});
  std::string cmd = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream out(path + ".out");
  std::string report((std::istreambuf_iterator<char>(out)), {});
  EXPECT_EQ(rc, 0) << report;
}

}  // namespace
}  // namespace llmload::analysis
