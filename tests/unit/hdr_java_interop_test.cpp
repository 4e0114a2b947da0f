// The Java reference (org.HdrHistogram, Debian libhdrhistogram-java) reads OUR encodings and
// .hlog files and reports the same figures we do. Runs tests/tools/HdrCheck.java with a
// single-file source launch. Java and the jar are test dependencies (scripts/test.sh installs
// default-jdk-headless and libhdrhistogram-java): when missing, these tests FAIL, loudly.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/hdr_log.h"

namespace llmload {
namespace {

const char* kJar = "/usr/share/java/hdrhistogram.jar";

bool executable_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

// Fails the test (returns false) when the reference cannot be run.
bool java_reference_available() {
  if (!executable_on_path("java")) {
    ADD_FAILURE() << "java is not on PATH: the HdrHistogram interop tests need a JDK "
                     "(apt-get install default-jdk-headless; scripts/test.sh installs it)";
    return false;
  }
  struct stat st;
  if (stat(kJar, &st) != 0) {
    ADD_FAILURE()
        << kJar << " is missing: the HdrHistogram interop tests need the Java "
        << "reference (apt-get install libhdrhistogram-java; scripts/test.sh installs it)";
    return false;
  }
  return true;
}

std::string temp_dir() {
  std::string tmpl = testing::TempDir() + "hdr_interop_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const char* d = mkdtemp(buf.data());
  EXPECT_NE(d, nullptr);
  return d ? std::string(d) : testing::TempDir();
}

// Runs HdrCheck.java with `args`, stdin from `input_file` (if any); returns its stdout lines.
std::vector<std::string> run_hdr_check(const std::string& dir, const std::string& args,
                                       const std::string& input_file) {
  std::string out = dir + "/java.out", err = dir + "/java.err";
  std::string cmd = std::string("java -cp ") + kJar + " " + LLMLOAD_SOURCE_DIR +
                    "/tests/tools/HdrCheck.java " + args +
                    (input_file.empty() ? "" : " < " + input_file) + " > " + out + " 2> " + err;
  int rc = std::system(cmd.c_str());
  std::ifstream e(err);
  std::string err_text((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << cmd << "\n" << err_text;
  std::vector<std::string> lines;
  std::ifstream o(out);
  std::string line;
  while (std::getline(o, line)) lines.push_back(line);
  return lines;
}

std::string our_summary(const HdrHistogram& h) {
  std::ostringstream s;
  s << "total=" << h.total_count() << " max=" << h.max() << " p50=" << h.value_at_percentile(50)
    << " p90=" << h.value_at_percentile(90) << " p99=" << h.value_at_percentile(99)
    << " p99.9=" << h.value_at_percentile(99.9) << " min=" << h.min();
  return s.str();
}

std::vector<HdrHistogram> our_histograms() {
  std::vector<HdrHistogram> out;
  std::mt19937_64 rng(99);
  HdrHistogram lognormal = HdrHistogram::for_micros();
  std::lognormal_distribution<double> ln(std::log(80'000.0), 1.1);
  for (int i = 0; i < 200'000; ++i)
    lognormal.record(std::min<int64_t>(std::llround(ln(rng)), 3'600'000'000));
  out.push_back(lognormal);
  out.push_back(HdrHistogram::for_micros());  // empty
  HdrHistogram one = HdrHistogram::for_micros();
  one.record(1234);
  out.push_back(one);
  HdrHistogram edges = HdrHistogram::for_micros();
  edges.record(0, 10);
  edges.record(1, 10);
  edges.record(3'600'000'000, 7);
  edges.record(2047, 1'000'000'000'000);  // needs a long varint
  out.push_back(edges);
  HdrHistogram fine(1, 10'000'000, 5);
  std::uniform_int_distribution<int64_t> u(1, 10'000'000);
  for (int i = 0; i < 50'000; ++i) fine.record(u(rng));
  out.push_back(fine);
  HdrHistogram coarse(1000, 1'000'000'000'000, 2);
  for (int i = 0; i < 50'000; ++i) coarse.record(u(rng) * 1000, 1 + i % 3);
  out.push_back(coarse);
  HdrHistogram corrected = HdrHistogram::for_micros();
  corrected.record_corrected(2'000'000, 1000);
  corrected.record_corrected(50'000, 10'000);
  out.push_back(corrected);
  return out;
}

TEST(HdrJavaInterop, JavaDecodesOurEncodingsToOurFigures) {
  if (!java_reference_available()) return;
  std::string dir = temp_dir();
  std::vector<HdrHistogram> hs = our_histograms();
  std::string input = dir + "/encodings.txt";
  {
    std::ofstream f(input);
    for (const HdrHistogram& h : hs) f << h.to_base64() << "\n";
    f << HdrHistogram::for_micros().to_base64().substr(0, 30) << "\n";  // truncated: Java errs
  }
  std::vector<std::string> lines = run_hdr_check(dir, "", input);
  ASSERT_EQ(lines.size(), hs.size() + 1);
  for (size_t i = 0; i < hs.size(); ++i)
    EXPECT_EQ(lines[i], our_summary(hs[i])) << "histogram " << i;
  EXPECT_EQ(lines.back().rfind("error=", 0), 0u) << lines.back();
}

TEST(HdrJavaInterop, JavaLogReaderReadsOurHlog) {
  if (!java_reference_available()) return;
  std::string dir = temp_dir();
  std::string path = dir + "/histograms.hlog";
  const int64_t start_ms = 1'763'924'400'000;  // 2025-11-23T19:00:00Z
  auto writer = HdrLogWriter::create(path, start_ms, start_ms, "llmload interop test");
  ASSERT_TRUE(writer.ok()) << writer.error();
  std::vector<HdrHistogram> written;
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int64_t> u(20'000, 200'000);
  for (int interval = 0; interval < 3; ++interval) {
    for (const char* tag : {"ttft", "itl", ""}) {
      HdrHistogram h = HdrHistogram::for_micros();
      for (int i = 0; i < 2000; ++i) h.record(u(rng));
      h.tag = tag;
      h.start_time_ms = start_ms + interval * 1000;
      h.end_time_ms = h.start_time_ms + 1000;
      ASSERT_FALSE(writer->write(h).has_value());
      written.push_back(h);
    }
  }
  std::vector<std::string> lines = run_hdr_check(dir, "--log " + path, "");
  ASSERT_EQ(lines.size(), written.size() + 1);
  for (size_t i = 0; i < written.size(); ++i) {
    const HdrHistogram& h = written[i];
    std::ostringstream want;
    want << "tag=" << (h.tag.empty() ? "null" : h.tag) << " start=" << h.start_time_ms
         << " end=" << h.end_time_ms << " total=" << h.total_count() << " max=" << h.max()
         << " p99=" << h.value_at_percentile(99);
    EXPECT_EQ(lines[i], want.str());
  }
  EXPECT_EQ(lines.back(), "intervals=" + std::to_string(written.size()));
}

}  // namespace
}  // namespace llmload
