// TLS end to end: `llmload run` (a real process) against `llmload mock --tls` serving a
// certificate made by this test's CA. A valid certificate with --ca-file is accepted and the
// run succeeds over TLS; a self-signed, an expired and a wrong-hostname certificate are refused
// at pre-flight (exit 2, a message naming the target, no request sent); --insecure (or the
// scenario's tls.insecure) is accepted, recorded as run.insecure and warned about.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/integration/mock_test_util.h"
#include "tests/integration/process_util.h"
#include "tests/unit/tls_test_support.h"

namespace {

using llmload::testing::KeyAndCert;
using llmload::testing::TestPki;
using llmload_test::run_to_end;
using llmload_test::slurp;
using llmload_test::test_dir;
using mocktest::MockProcess;

struct RunResult {
  int code = -1;
  std::string log;
  nlohmann::json summary;  // null when none was written
};

class EngineTls : public ::testing::Test {
 protected:
  // Starts a TLS mock serving `cert` (with a truth log) and returns its https URL.
  std::string serve(const KeyAndCert& cert) {
    truth_ = dir_ + "/truth-" + std::to_string(++n_) + ".jsonl";
    mock_ = std::make_unique<MockProcess>(
        std::vector<std::string>{"--tls", "--cert", cert.cert_file, "--key", cert.key_file,
                                 "--ttft", "2ms", "--itl", "1ms", "--truth", truth_});
    EXPECT_TRUE(mock_->ok()) << mock_->first_lines() << mock_->stderr_text();
    EXPECT_EQ(mock_->url().rfind("https://127.0.0.1:", 0), 0u) << mock_->url();
    return mock_->url();
  }

  // Writes a scenario for `url` (extra YAML under target:) and runs it to the end.
  RunResult run(const std::string& url, std::vector<std::string> flags,
                const std::string& target_extra = "") {
    const std::string name = "run" + std::to_string(++n_);
    const std::string scenario = dir_ + "/" + name + ".yaml";
    std::ofstream(scenario) << "name: tls\ntarget:\n  url: " << url
                            << "\n  api: openai-chat\n  model: m\n"
                            << target_extra
                            << "load:\n  concurrency: 2\n  requests: 10\n"
                               "prompts:\n  source: synthetic\n"
                               "  input_tokens: {dist: uniform, min: 4, max: 8}\n"
                               "output:\n  max_tokens: 4\n";
    std::vector<std::string> args = {"llmload",         "run",         scenario,    "--out",
                                     dir_ + "/" + name, "--no-report", "--threads", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    RunResult r;
    std::tie(r.code, r.log) = run_to_end(args, dir_ + "/" + name + ".log", 60);
    const std::string summary = slurp(dir_ + "/" + name + "/summary.json");
    if (!summary.empty()) r.summary = nlohmann::json::parse(summary, nullptr, false);
    return r;
  }

  // Generation requests the mock's truth log saw (after stopping the mock, which flushes it).
  int generation_requests() {
    EXPECT_EQ(mock_->stop(), 0) << mock_->stderr_text();
    int n = 0;
    for (const auto& line : mocktest::lines(slurp(truth_)))
      n += nlohmann::json::parse(line)["path"] == "/v1/chat/completions";
    return n;
  }

  // A refused certificate: exit 2 naming the target, no request sent, `why` in the message.
  void expect_refused(const KeyAndCert& cert, const std::string& why) {
    const std::string url = serve(cert);
    RunResult r = run(url, {"--ca-file", pki_.ca.cert_file, "--quiet"});
    EXPECT_EQ(r.code, 2) << r.log;
    EXPECT_NE(r.log.find(url), std::string::npos) << "names the target: " << r.log;
    EXPECT_NE(r.log.find("pre-flight"), std::string::npos) << r.log;
    EXPECT_NE(r.log.find(why), std::string::npos) << r.log;
    EXPECT_EQ(generation_requests(), 0) << "no load was sent";
  }

  void TearDown() override {
    if (mock_) mock_->stop();
    if (!HasFailure()) std::filesystem::remove_all(dir_);  // kept for a look when it failed
  }

  TestPki pki_;
  std::string dir_ = test_dir(std::string("engine-tls-") +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string truth_;
  std::unique_ptr<MockProcess> mock_;
  int n_ = 0;
};

TEST_F(EngineTls, SmokeValidCertificateWithCaFileIsAccepted) {
  KeyAndCert good = pki_.leaf("good", "DNS:localhost,IP:127.0.0.1");
  const std::string url = serve(good);
  RunResult r = run(url, {"--ca-file", pki_.ca.cert_file, "--quiet"});
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_TRUE(r.summary.is_object()) << r.log;
  EXPECT_EQ(r.summary["totals"]["ok"], 10);
  EXPECT_EQ(r.summary["totals"]["failed"], 0);
  EXPECT_EQ(r.summary["run"]["insecure"], false);
  EXPECT_EQ(r.log.find("verification is OFF"), std::string::npos) << r.log;
  // The handshakes were timed: every connection's (opened ahead of load or not) goes with its
  // first request, so a concurrency run over TLS has a tls metric.
  ASSERT_TRUE(r.summary["metrics"].contains("tls")) << r.summary["metrics"].dump();
  EXPECT_GE(r.summary["metrics"]["tls"]["count"].get<int64_t>(), 2);
  EXPECT_EQ(r.summary["metrics"]["tls"]["count"], r.summary["metrics"]["connect"]["count"]);
  EXPECT_EQ(generation_requests(), 10);
}

TEST_F(EngineTls, WithoutTheCaTheSystemStoreRefusesIt) {
  KeyAndCert good = pki_.leaf("good2", "DNS:localhost,IP:127.0.0.1");
  const std::string url = serve(good);
  RunResult r = run(url, {"--quiet"});
  EXPECT_EQ(r.code, 2) << r.log;
  EXPECT_NE(r.log.find(url), std::string::npos) << r.log;
  EXPECT_EQ(generation_requests(), 0);
}

TEST_F(EngineTls, SelfSignedIsRefusedAtPreflight) {
  expect_refused(pki_.leaf("self", "DNS:localhost,IP:127.0.0.1", /*self_signed=*/true),
                 "self-signed");
}

TEST_F(EngineTls, ExpiredIsRefusedAtPreflight) {
  expect_refused(pki_.leaf("expired", "DNS:localhost,IP:127.0.0.1", false, -7200, -3600),
                 "expired");
}

TEST_F(EngineTls, WrongHostnameIsRefusedAtPreflight) {
  expect_refused(pki_.leaf("other", "DNS:other.example,IP:10.9.8.7"), "mismatch");
}

TEST_F(EngineTls, InsecureFlagIsAcceptedRecordedAndWarned) {
  KeyAndCert self = pki_.leaf("self2", "DNS:other.example", /*self_signed=*/true);
  const std::string url = serve(self);
  RunResult r = run(url, {"--insecure", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_TRUE(r.summary.is_object());
  EXPECT_EQ(r.summary["totals"]["ok"], 10);
  EXPECT_EQ(r.summary["run"]["insecure"], true);
  EXPECT_NE(r.log.find("verification is OFF"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find(url), std::string::npos) << "the warning names the target: " << r.log;
  bool warned = false;
  for (const auto& w : r.summary["run"]["warnings"])
    warned = warned || w.get<std::string>().find("insecure") != std::string::npos;
  EXPECT_TRUE(warned) << r.summary["run"].dump();
  EXPECT_EQ(generation_requests(), 10);
}

TEST_F(EngineTls, ScenarioTlsInsecureIsTheSame) {
  KeyAndCert self = pki_.leaf("self3", "DNS:localhost,IP:127.0.0.1", /*self_signed=*/true);
  const std::string url = serve(self);
  RunResult r = run(url, {"--quiet"}, "  tls:\n    insecure: true\n");
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_TRUE(r.summary.is_object());
  EXPECT_EQ(r.summary["run"]["insecure"], true);
  EXPECT_NE(r.log.find("verification is OFF"), std::string::npos) << r.log;
}

}  // namespace
