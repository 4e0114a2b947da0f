// `llmload validate` as users run it: every ready scenario validates with no environment
// variables set (exit 0), an invalid file exits 2 with every error on stderr, overrides apply,
// and a secret from the environment never shows in the output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `env -i [vars] llmload ARGS` (a clean environment), capturing both streams.
Result run(const std::string& args, const std::string& vars = "") {
  const std::string cmd = "env -i " + vars + " " + LLMLOAD_BINARY + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string scenario(const std::string& name) {
  return std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/" + name;
}

TEST(ValidateSmoke, EveryReadyScenarioValidatesWithNoEnvironment) {
  int files = 0;
  for (const auto& e : fs::directory_iterator(std::string(LLMLOAD_SOURCE_DIR) + "/scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    SCOPED_TRACE(e.path().string());
    const Result r = run("validate " + e.path().string());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("valid: no request was sent"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("input tokens ("), std::string::npos) << r.out;
  }
  EXPECT_GE(files, 10);
}

TEST(ValidateSmoke, QuickstartSaysWhatItWillDo) {
  const Result r = run("validate " + scenario("quickstart.yaml"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mock: built-in mock, api openai-chat"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("load: concurrency mode, 16 in flight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("limits: 200 requests"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("count 200, mean"), std::string::npos) << r.out;
}

TEST(ValidateSmoke, InvalidFileExitsTwoWithEveryError) {
  const Result r = run("validate " + std::string(LLMLOAD_SOURCE_DIR) +
                       "/tests/data/scenarios/bad/multiple_errors.yaml");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("multiple_errors.yaml:4: target.api: unknown value 'openai-chatt' (did you "
                       "mean 'openai-chat'?)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("multiple_errors.yaml:14: load.thinktime: unknown field (did you mean "
                       "'think_time'?)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("multiple_errors.yaml:22: on_worker_loss"), std::string::npos) << r.out;
  EXPECT_EQ(run("validate /nonexistent/scenario.yaml").code, 2);
}

TEST(ValidateSmoke, OverridesApplyAndAreShown) {
  const Result r = run("validate " + scenario("quickstart.yaml") +
                       " --rate 5 --duration 20s --model other --header 'X-Team: infra'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("load: rate mode, 5 requests/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("limits: 20s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model other"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("override: --duration 20s"), std::string::npos) << r.out;
  const Result bad = run("validate " + scenario("quickstart.yaml") + " --api nope --concurrency 0");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--api: unknown API 'nope'"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("--concurrency: must be at least 1"), std::string::npos) << bad.out;
}

TEST(ValidateSmoke, SecretsAreWarnedAboutOrRedactedNeverPrinted) {
  const Result missing = run("validate " + scenario("chat-short.yaml"));
  EXPECT_EQ(missing.code, 0) << missing.out;
  EXPECT_NE(missing.out.find("warning: target mock: header Authorization: environment variable "
                             "OPENAI_API_KEY is not set"),
            std::string::npos)
      << missing.out;
  const Result set =
      run("validate " + scenario("chat-short.yaml") + " --header 'X-Key: ${LLMLOAD_IT_KEY}'",
          "OPENAI_API_KEY=sk-never-shown LLMLOAD_IT_KEY=other-secret");
  EXPECT_EQ(set.code, 0) << set.out;
  EXPECT_EQ(set.out.find("sk-never-shown"), std::string::npos) << set.out;
  EXPECT_EQ(set.out.find("other-secret"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("header Authorization: *** (secret)"), std::string::npos) << set.out;
}

TEST(ValidateSmoke, BrokenDatasetNamesFileAndLine) {
  const fs::path dir = fs::temp_directory_path() / ("llmload-validate-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "p.jsonl") << "\"fine\"\n{\"prompt\": \n";
  std::ofstream(dir / "s.yaml") << "target: {model: m}\nload: {requests: 1}\nprompts: {source: "
                                   "jsonl, file: p.jsonl}\n";
  const Result r = run("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find((dir / "p.jsonl").string() + ":2: not valid JSON"), std::string::npos)
      << r.out;
  fs::remove_all(dir);
}

TEST(ValidateSmoke, ADatasetIsSaidToBeReadByEveryWorkerWithItsSizeAndHash) {
  const fs::path dir =
      fs::temp_directory_path() / ("llmload-validate-ds-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "p.jsonl") << "\"abc\"\n";  // 6 bytes
  std::ofstream(dir / "s.yaml") << "target: {model: m}\nload: {requests: 1}\nprompts: {source: "
                                   "jsonl, file: p.jsonl}\n";
  const Result r = run("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("read by every worker from this path (remote workers need the same file "
                       "there): 6 bytes, sha256 "),
            std::string::npos)
      << r.out;
  fs::remove_all(dir);
}

}  // namespace
