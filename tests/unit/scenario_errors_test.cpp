// Golden files: every bad scenario in tests/data/scenarios/bad/NAME.yaml gives exactly the
// error text in NAME.expected (every problem, one per line, with file:line and field path).
// LLMLOAD_UPDATE_GOLDEN=1 rewrites the .expected files from the current output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/scenario.h"

namespace llmload {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(LLMLOAD_SOURCE_DIR) / "tests/data/scenarios/bad";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// Paths inside messages depend on the checkout: shown as <dir>.
std::string normalise(std::string s) {
  const std::string dir = kDir.string();
  for (size_t pos; (pos = s.find(dir)) != std::string::npos;) s.replace(pos, dir.size(), "<dir>");
  return s;
}

std::vector<fs::path> cases() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ScenarioErrors, EveryBadFileMatchesItsGoldenText) {
  const std::vector<fs::path> files = cases();
  ASSERT_GE(files.size(), 14u);
  const bool update = std::getenv("LLMLOAD_UPDATE_GOLDEN") != nullptr;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    auto s = parse_scenario(read(f), f.filename().string(), kDir.string());
    ASSERT_FALSE(s.ok()) << "expected " << f << " to be refused";
    const std::string got = normalise(s.error()) + "\n";
    fs::path expected_path = f;
    expected_path.replace_extension(".expected");
    if (update) {
      std::ofstream(expected_path, std::ios::binary) << got;
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_path)) << "missing golden file " << expected_path;
    EXPECT_EQ(got, read(expected_path));
  }
}

TEST(ScenarioErrors, LoadScenarioNamesThePathAsGiven) {
  auto s = load_scenario((kDir / "no_limit.yaml").string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("no_limit.yaml: load: no end"), std::string::npos) << s.error();
  auto missing = load_scenario("/nonexistent/x.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "/nonexistent/x.yaml: cannot open the scenario file");
}

TEST(ScenarioErrors, UnknownFieldSuggestsTheClosestName) {
  auto s = parse_scenario("target: {url: mock, model: m}\nload: {requests: 1, grase: 1s}\n",
                          "t.yaml", "/tmp");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "t.yaml:2: load.grase: unknown field (did you mean 'grace'?)");
}

TEST(ScenarioErrors, FarOffFieldListsTheKnownOnes) {
  auto s = parse_scenario("target: {url: mock, model: m, zzzzzz: 1}\nload: {requests: 1}\n",
                          "t.yaml", "/tmp");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("t.yaml:1: target.zzzzzz: unknown field (known: name, url, api"),
            std::string::npos)
      << s.error();
}

}  // namespace
}  // namespace llmload
