// The number contract checked the way the acceptance checks do it: every `hdr` string of a
// summary.json is decoded by the Java reference (org.HdrHistogram via tests/tools/HdrCheck.java),
// and each statistic in the file must be the reference's value (/ 1000 for times), exactly.
// Java and the jar are test dependencies (scripts/test.sh installs them): missing, this FAILS.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "common/atomic_file.h"
#include "common/results_json.h"
#include "results_test_util.h"

namespace llmload {
namespace {

using nlohmann::json;
const char* kJar = "/usr/share/java/hdrhistogram.jar";

// "total=N max=M p50=A ..." → {"total": N, ...}
std::map<std::string, int64_t> parse_fields(const std::string& line) {
  std::map<std::string, int64_t> out;
  std::istringstream in(line);
  for (std::string kv; in >> kv;) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stoll(kv.substr(eq + 1));
  }
  return out;
}

TEST(SummaryJavaInterop, EveryStatisticIsTheReferenceValue) {
  struct stat st;
  ASSERT_EQ(stat(kJar, &st), 0) << kJar << " missing: apt-get install libhdrhistogram-java";
  ASSERT_EQ(std::system("java -version > /dev/null 2>&1"), 0)
      << "java missing: apt-get install default-jdk-headless";

  json summary = summary_to_json(testing_util::sample_result());
  std::vector<std::pair<std::string, json>> metrics;
  for (const auto& [n, m] : summary["metrics"].items()) metrics.emplace_back(n, m);
  for (std::size_t g = 0; g < summary["groups"].size(); ++g) {
    for (const auto& [n, m] : summary["groups"][g]["metrics"].items()) {
      metrics.emplace_back("groups[" + std::to_string(g) + "]." + n, m);
    }
  }
  ASSERT_GT(metrics.size(), 20u);

  std::string dir = ::testing::TempDir() + "results_interop_" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  std::string input;
  for (const auto& [n, m] : metrics) input += m["hdr"].get<std::string>() + "\n";
  ASSERT_TRUE(write_file_atomic(dir + "/in.txt", input).ok());
  std::string cmd = std::string("java -cp ") + kJar + " " + LLMLOAD_SOURCE_DIR +
                    "/tests/tools/HdrCheck.java < " + dir + "/in.txt > " + dir + "/out.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream out(dir + "/out.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), metrics.size());

  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const auto& [n, m] = metrics[i];
    auto ref = parse_fields(lines[i]);
    ASSERT_TRUE(ref.count("total")) << n << ": " << lines[i];
    EXPECT_EQ(m["count"].get<int64_t>(), ref["total"]) << n;
    bool is_time = m["hdr_unit"] == "us";
    EXPECT_EQ(m["unit"], is_time ? "ms" : m["hdr_unit"].get<std::string>()) << n;
    const double scale = is_time ? 1000.0 : 1.0;
    const std::pair<const char*, const char*> stats[] = {{"min", "min"}, {"max", "max"},
                                                         {"p50", "p50"}, {"p90", "p90"},
                                                         {"p99", "p99"}, {"p999", "p99.9"}};
    for (const auto& [ours, theirs] : stats) {
      EXPECT_EQ(m[ours].get<double>(), double(ref[theirs]) / scale) << n << "." << ours;
      if (!is_time) {
        EXPECT_TRUE(m[ours].is_number_integer()) << n << "." << ours;
      }
    }
  }
  (void)std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace llmload
