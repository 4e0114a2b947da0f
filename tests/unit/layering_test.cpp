// scripts/check-layering.sh holds the product code to docs/DESIGN.md's Layering: the real tree
// passes, and a scratch copy with a forbidden include planted fails naming the file and line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;
};

Result check(const std::string& root) {
  const std::string cmd = "bash '" + std::string(LLMLOAD_SOURCE_DIR) +
                          "/scripts/check-layering.sh' '" + root + "' 2>&1";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(Layering, TheProductTreeKeepsIt) {
  Result r = check(LLMLOAD_SOURCE_DIR);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("every include within the layering"), std::string::npos) << r.out;
}

TEST(Layering, AForbiddenIncludeFailsNamingFileAndLine) {
  const fs::path scratch =
      fs::temp_directory_path() / ("llmload-layering-" + std::to_string(::getpid()));
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  for (const char* d : {"common", "worker", "coordinator", "mock", "analysis", "cli"}) {
    fs::copy(fs::path(LLMLOAD_SOURCE_DIR) / d, scratch / d, fs::copy_options::recursive);
  }
  // The coordinator drives workers through messages alone: including worker/ is forbidden.
  {
    std::ofstream f(scratch / "coordinator" / "planted.cpp");
    f << "// planted by the test\n#include <string>\n#include \"worker/loop.h\"\n";
  }
  // mock/ and worker/ never include each other.
  {
    std::ofstream f(scratch / "mock" / "planted.h", std::ios::app);
    f << "#pragma once\n#include \"common/clock.h\"\n#include \"worker/chunk.h\"\n";
  }
  // The live run never includes the offline analysis, and analysis/ reads results, never the
  // coordinator that makes them.
  {
    std::ofstream f(scratch / "coordinator" / "planted_report.cpp");
    f << "#include \"analysis/report/html_report.h\"\n";
  }
  {
    std::ofstream f(scratch / "analysis" / "planted.cpp");
    f << "#include \"common/results.h\"\n#include \"analysis/gates/junit.h\"\n"
         "#include \"coordinator/coordinator.h\"\n";
  }
  Result r = check(scratch.string());
  fs::remove_all(scratch);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("coordinator/planted.cpp:3: #include \"worker/loop.h\""), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("mock/planted.h:3: #include \"worker/chunk.h\""), std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find("coordinator/planted_report.cpp:1: #include \"analysis/report/html_report.h\""),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("analysis/planted.cpp:3: #include \"coordinator/coordinator.h\""),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("common/clock.h\" --"), std::string::npos) << "an allowed include flagged";
  EXPECT_EQ(r.out.find("analysis/gates/junit.h\" --"), std::string::npos)
      << "an allowed include flagged";
}

}  // namespace
