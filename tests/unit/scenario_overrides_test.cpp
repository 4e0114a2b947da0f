// Command-line overrides replace what the file says, are recorded, and are checked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/overrides.h"

namespace llmload {
namespace {

Scenario base(const char* extra = "") {
  std::string text = std::string(R"(
target:
  url: http://127.0.0.1:9/v1
  model: file-model
  headers: {X-Team: a}
load:
  concurrency: 4
  stages: [{duration: 5s, concurrency: 8}]
  requests: 200
  duration: 1m
  think_time: 1s
)") + extra;
  auto s = parse_scenario(text, "base.yaml", "/tmp");
  EXPECT_TRUE(s.ok()) << s.error();
  return *s;
}

TEST(Overrides, RateReplacesTheWholeLoadShape) {
  Scenario s = base();
  Overrides o;
  o.rate = 20;
  ASSERT_TRUE(apply_overrides(s, o).empty());
  EXPECT_EQ(s.load.mode, LoadMode::kRate);
  EXPECT_DOUBLE_EQ(s.load.rate, 20);
  EXPECT_TRUE(s.load.stages.empty());
  EXPECT_TRUE(s.load.think_time.is_zero());
  EXPECT_EQ(s.overrides, std::vector<std::string>{"--rate 20"});
}

TEST(Overrides, ConcurrencyReplacesStages) {
  Scenario s = base();
  Overrides o;
  o.concurrency = 64;
  ASSERT_TRUE(apply_overrides(s, o).empty());
  EXPECT_EQ(s.load.mode, LoadMode::kConcurrency);
  EXPECT_EQ(s.load.concurrency, 64);
  EXPECT_TRUE(s.load.stages.empty());
}

TEST(Overrides, ALimitOnTheCommandLineReplacesBothLimits) {
  Scenario s = base();
  Overrides o;
  o.duration = "20s";
  ASSERT_TRUE(apply_overrides(s, o).empty());
  EXPECT_EQ(s.load.duration_ns, 20'000'000'000);
  EXPECT_EQ(s.load.requests, 0);

  Scenario t = base();
  Overrides r;
  r.requests = 10;
  ASSERT_TRUE(apply_overrides(t, r).empty());
  EXPECT_EQ(t.load.requests, 10);
  EXPECT_EQ(t.load.duration_ns, 0);
}

TEST(Overrides, TargetApiModelWarmupGraceIntervalInsecure) {
  Scenario s = base();
  Overrides o;
  o.target = "mock";
  o.api = "ollama-chat";
  o.model = "llama3:8b";
  o.warmup = "10s";
  o.grace = "0s";
  o.interval = "2s";
  o.insecure = true;
  ASSERT_TRUE(apply_overrides(s, o).empty());
  EXPECT_TRUE(s.targets[0].is_mock());
  EXPECT_EQ(s.targets[0].name, "mock");
  EXPECT_EQ(s.targets[0].api, Api::kOllamaChat);
  ASSERT_EQ(s.targets[0].models.size(), 1u);
  EXPECT_EQ(s.targets[0].models[0].name, "llama3:8b");
  EXPECT_EQ(s.load.warmup_ns, 10'000'000'000);
  EXPECT_EQ(s.load.grace_ns, 0);
  EXPECT_EQ(s.interval_ns, 2'000'000'000);
  EXPECT_TRUE(s.targets[0].tls.insecure);
  EXPECT_EQ(s.overrides.size(), 7u);
  EXPECT_EQ(s.overrides[0], "--target mock");
}

TEST(Overrides, HeadersReplaceByNameAndAreRecordedWithoutValues) {
  Scenario s = base();
  Overrides o;
  o.headers = {"x-team: b", "Authorization: Bearer ${LLMLOAD_OVERRIDE_KEY}"};
  ASSERT_TRUE(apply_overrides(s, o).empty());
  ASSERT_EQ(s.targets[0].headers.size(), 2u);
  EXPECT_EQ(s.targets[0].headers[0].name, "x-team");
  EXPECT_EQ(s.targets[0].headers[0].value, "b");
  EXPECT_TRUE(s.targets[0].headers[1].secret);
  EXPECT_EQ(s.overrides[0], "--header 'x-team: ***'");
  EXPECT_EQ(s.overrides[1], "--header 'Authorization: Bearer ${LLMLOAD_OVERRIDE_KEY}'");
  setenv("LLMLOAD_OVERRIDE_KEY", "sk-override", 1);
  ASSERT_TRUE(resolve_secrets(s, true).empty());
  EXPECT_EQ(s.targets[0].headers[1].value, "Bearer sk-override");
  EXPECT_EQ(redacted_json(s).dump().find("sk-override"), std::string::npos);
  unsetenv("LLMLOAD_OVERRIDE_KEY");
}

TEST(Overrides, AssertsAreAppendedAndChecked) {
  Scenario s = base();
  Overrides o;
  o.asserts = {"ttft.p99 < 2s", "nonsense <"};
  auto errors = apply_overrides(s, o);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("--assert: column 1: unknown variable 'nonsense'", 0), 0u) << errors[0];
  ASSERT_EQ(s.slo.asserts.size(), 1u);
}

TEST(Overrides, EveryBadValueIsReported) {
  Scenario s = base();
  Overrides o;
  o.target = "ftp://x";
  o.api = "openai-chatt";
  o.concurrency = 2;
  o.rate = 3;
  o.duration = "10";
  o.headers = {"no colon"};
  o.ca_file = "/nonexistent/ca.pem";
  auto errors = apply_overrides(s, o);
  ASSERT_EQ(errors.size(), 6u);
  EXPECT_EQ(errors[0], "--target: expected mock or http(s)://host[:port][/prefix], got 'ftp://x'");
  EXPECT_EQ(errors[1], "--api: unknown API 'openai-chatt' (did you mean 'openai-chat'?)");
  EXPECT_EQ(errors[2], "--concurrency and --rate: give one (each sets the load mode)");
  EXPECT_NE(errors[3].find("--duration: invalid duration '10'"), std::string::npos);
  EXPECT_EQ(errors[4], "--header: expected 'Name: value' (no ':' found)");
  EXPECT_EQ(errors[5], "--ca-file: file not found: /nonexistent/ca.pem");
}

TEST(Overrides, LimitsFromTheCommandLineCompleteAFileWithout) {
  const std::string path = testing::TempDir() + "/nolimit.yaml";
  std::ofstream(path) << "target: {model: m}\nload: {concurrency: 2}\n";
  ASSERT_FALSE(load_scenario(path).ok());
  ASSERT_FALSE(load_scenario_with_overrides(path, Overrides{}).ok());
  Overrides o;
  o.requests = 5;
  auto s = load_scenario_with_overrides(path, o);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->load.requests, 5);
  // And --model completes a file without a model.
  std::ofstream(path) << "target: {url: mock}\nload: {requests: 2}\n";
  auto none = load_scenario_with_overrides(path, Overrides{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("targets[0] (mock): no model (set model: or pass --model)"),
            std::string::npos)
      << none.error();
  Overrides m;
  m.model = "x";
  EXPECT_TRUE(load_scenario_with_overrides(path, m).ok());
}

}  // namespace
}  // namespace llmload
