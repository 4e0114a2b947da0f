// Every field of the scenario file lands in the model with its units converted, defaults hold
// when a field is absent, and the JSON form reads back to the same model.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/scenario.h"

namespace llmload {
namespace {

constexpr const char* kFull = R"(
name: full
description: every field
targets:
  - name: a
    url: https://api.example.com/v1
    api: anthropic-messages
    models:
      - {name: big, weight: 1}
      - {name: small, weight: 3}
    weight: 2
    headers:
      x-api-key: ${LLMLOAD_TEST_KEY}
      X-Team: load
      X-Literal-Secret: {value: abc, secret: true}
    timeouts: {connect: 2s, ttft: 30s, idle: 5s, total: 1m}
    tls: {insecure: true}
    stream_options: {include_usage: false, continuous_usage: true}
  - url: http://127.0.0.1:8000
    api: ollama-generate
    model: llama3:8b
load:
  mode: rate
  rate: 12.5
  arrival: poisson
  stages:
    - {duration: 10s, rate: 5}
    - {duration: 20s, rate: 50}
  requests: 1000
  warmup: 500ms
  grace: 5s
  max_in_flight: 200
prompts:
  source: synthetic
  input_tokens: {dist: lognormal, mean: 512, stddev: 128, min: 8, max: 2048}
  shared_prefix_tokens: 64
  unique_prefix: true
  system: be brief
output:
  max_tokens: {dist: normal, mean: 100, stddev: 10}
  ignore_eos: true
  temperature: 0.5
  extra: {top_p: 0.9, stop: ["\n\n"], seed: 7, logit_bias: {"50256": -100}, label: "007"}
slo:
  request: {ttft: 2s, ttfo: 3s, tpot: 80ms, itl: 200ms, e2e: 30s}
  assert:
    - ttft.p99 < 2s
    - {expr: error_rate < 1%, abort_on_fail: true}
    - "model=llama3:8b: tpot.p95 <= 80ms abort_on_fail"
sweep:
  search: {mode: rate, min: 1, max: 64, factor: 2, precision: 0.05}
on_worker_loss: stop
pricing:
  big: {input_per_mtok: 3, output_per_mtok: 15}
tags: {team: infra, task: chat}
seed: 42
interval: 500ms
)";

TEST(ScenarioParse, EveryFieldLandsInTheModel) {
  auto r = parse_scenario(kFull, "full.yaml", "/data");
  ASSERT_TRUE(r.ok()) << r.error();
  const Scenario& s = *r;
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.description, "every field");
  ASSERT_EQ(s.targets.size(), 2u);
  const Target& a = s.targets[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.url, "https://api.example.com/v1");
  EXPECT_EQ(a.api, Api::kAnthropicMessages);
  ASSERT_EQ(a.models.size(), 2u);
  EXPECT_EQ(a.models[1].name, "small");
  EXPECT_DOUBLE_EQ(a.models[1].weight, 3);
  EXPECT_DOUBLE_EQ(a.weight, 2);
  ASSERT_EQ(a.headers.size(), 3u);
  EXPECT_EQ(a.headers[0].name, "x-api-key");
  EXPECT_EQ(a.headers[0].value_template, "${LLMLOAD_TEST_KEY}");
  EXPECT_TRUE(a.headers[0].secret);
  EXPECT_EQ(a.headers[0].value, "");  // resolved later
  EXPECT_FALSE(a.headers[1].secret);
  EXPECT_EQ(a.headers[1].value, "load");
  EXPECT_TRUE(a.headers[2].secret);
  EXPECT_EQ(a.headers[2].value, "abc");
  EXPECT_EQ(a.timeouts.connect_ns, 2'000'000'000);
  EXPECT_EQ(a.timeouts.ttft_ns, 30'000'000'000);
  EXPECT_EQ(a.timeouts.idle_ns, 5'000'000'000);
  EXPECT_EQ(a.timeouts.total_ns, 60'000'000'000);
  EXPECT_TRUE(a.tls.insecure);
  EXPECT_FALSE(a.stream_options.include_usage);
  EXPECT_TRUE(a.stream_options.continuous_usage);
  const Target& b = s.targets[1];
  EXPECT_EQ(b.name, "127.0.0.1:8000");  // default: host[:port]
  EXPECT_EQ(b.api, Api::kOllamaGenerate);
  ASSERT_EQ(b.models.size(), 1u);
  EXPECT_EQ(b.models[0].name, "llama3:8b");
  EXPECT_EQ(b.timeouts.ttft_ns, 120'000'000'000);  // defaults
  EXPECT_TRUE(b.stream_options.include_usage);

  const Load& l = s.load;
  EXPECT_EQ(l.mode, LoadMode::kRate);
  EXPECT_DOUBLE_EQ(l.rate, 12.5);
  EXPECT_EQ(l.arrival, Arrival::kPoisson);
  ASSERT_EQ(l.stages.size(), 2u);
  EXPECT_EQ(l.stages[1].duration_ns, 20'000'000'000);
  EXPECT_DOUBLE_EQ(l.stages[1].rate, 50);
  EXPECT_EQ(l.duration_ns, 30'000'000'000);  // sum of the stages
  EXPECT_EQ(l.requests, 1000);
  EXPECT_EQ(l.warmup_ns, 500'000'000);
  EXPECT_EQ(l.grace_ns, 5'000'000'000);
  EXPECT_EQ(l.max_in_flight, 200);

  const PromptSource& p = s.prompts;
  EXPECT_EQ(p.kind, PromptSourceKind::kSynthetic);
  EXPECT_EQ(p.input_tokens.kind, DistKind::kLognormal);
  EXPECT_DOUBLE_EQ(p.input_tokens.mean, 512);
  EXPECT_DOUBLE_EQ(p.input_tokens.min, 8);
  EXPECT_DOUBLE_EQ(p.input_tokens.max, 2048);
  EXPECT_EQ(p.shared_prefix_tokens, 64);
  EXPECT_TRUE(p.unique_prefix);
  EXPECT_EQ(p.system, "be brief");

  ASSERT_TRUE(s.output.max_tokens.has_value());
  EXPECT_EQ(s.output.max_tokens->kind, DistKind::kNormal);
  EXPECT_TRUE(s.output.ignore_eos);
  EXPECT_DOUBLE_EQ(*s.output.temperature, 0.5);
  EXPECT_DOUBLE_EQ(s.output.extra["top_p"].get<double>(), 0.9);
  EXPECT_EQ(s.output.extra["stop"][0], "\n\n");
  EXPECT_EQ(s.output.extra["seed"], 7);
  EXPECT_EQ(s.output.extra["logit_bias"]["50256"], -100);
  EXPECT_EQ(s.output.extra["label"], "007");  // quoted: stays a string

  EXPECT_EQ(*s.slo.request.ttft_ns, 2'000'000'000);
  EXPECT_EQ(*s.slo.request.ttfo_ns, 3'000'000'000);
  EXPECT_EQ(*s.slo.request.tpot_ns, 80'000'000);
  EXPECT_EQ(*s.slo.request.itl_ns, 200'000'000);
  EXPECT_EQ(*s.slo.request.e2e_ns, 30'000'000'000);
  ASSERT_EQ(s.slo.asserts.size(), 3u);
  EXPECT_EQ(s.slo.asserts[0].variable(), "ttft.p99");
  EXPECT_DOUBLE_EQ(s.slo.asserts[0].value, 2000);
  EXPECT_FALSE(s.slo.asserts[0].abort_on_fail);
  EXPECT_TRUE(s.slo.asserts[1].abort_on_fail);
  EXPECT_DOUBLE_EQ(s.slo.asserts[1].value, 0.01);
  ASSERT_TRUE(s.slo.asserts[2].group.has_value());
  EXPECT_EQ(s.slo.asserts[2].group->value, "llama3:8b");
  EXPECT_TRUE(s.slo.asserts[2].abort_on_fail);

  EXPECT_EQ(s.sweep.kind, SweepKind::kSearch);
  EXPECT_EQ(s.sweep.search_mode, LoadMode::kRate);
  EXPECT_DOUBLE_EQ(s.sweep.search_max, 64);
  EXPECT_DOUBLE_EQ(s.sweep.search_precision, 0.05);
  EXPECT_EQ(s.on_worker_loss, OnWorkerLoss::kStop);
  EXPECT_DOUBLE_EQ(s.pricing.at("big").output_per_mtok, 15);
  EXPECT_EQ(s.tags.at("team"), "infra");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.interval_ns, 500'000'000);
  EXPECT_TRUE(s.warnings.empty());
}

TEST(ScenarioParse, DefaultsForAMinimalFile) {
  auto r = parse_scenario("target: {model: m}\nload: {requests: 3}\n", "min.yaml", "/tmp");
  ASSERT_TRUE(r.ok()) << r.error();
  const Scenario& s = *r;
  EXPECT_EQ(s.name, "min");
  ASSERT_EQ(s.targets.size(), 1u);
  EXPECT_TRUE(s.targets[0].is_mock());
  EXPECT_EQ(s.targets[0].name, "mock");
  EXPECT_EQ(s.targets[0].api, Api::kOpenAiChat);
  EXPECT_EQ(s.load.mode, LoadMode::kConcurrency);
  EXPECT_EQ(s.load.concurrency, 1);
  EXPECT_EQ(s.load.duration_ns, 0);
  EXPECT_EQ(s.load.grace_ns, 30'000'000'000);
  EXPECT_EQ(s.load.warmup_ns, 0);
  EXPECT_TRUE(s.load.think_time.is_zero());
  EXPECT_EQ(s.prompts.kind, PromptSourceKind::kSynthetic);
  EXPECT_EQ(s.interval_ns, 1'000'000'000);
  EXPECT_EQ(s.on_worker_loss, OnWorkerLoss::kContinue);
  ASSERT_EQ(s.warnings.size(), 1u);  // no max_tokens
  EXPECT_NE(s.warnings[0].find("max_tokens"), std::string::npos);
}

TEST(ScenarioParse, JsonIsAcceptedAsYaml) {
  auto r = parse_scenario(
      R"({"target": {"url": "mock", "model": "m"}, "load": {"concurrency": 3, "duration": "5s"},
          "prompts": {"items": ["a", {"text": "b", "max_tokens": 9}]}})",
      "s.json", "/tmp");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->load.concurrency, 3);
  EXPECT_EQ(r->load.duration_ns, 5'000'000'000);
  EXPECT_EQ(r->prompts.kind, PromptSourceKind::kInline);
  ASSERT_EQ(r->prompts.items.size(), 2u);
  EXPECT_EQ(*r->prompts.items[1].max_tokens, 9);
}

TEST(ScenarioParse, ThinkTimeTakesDurationsAndDistributions) {
  auto r = parse_scenario(
      "target: {model: m}\nload:\n  requests: 3\n  think_time: {dist: uniform, min: 100ms, max: "
      "2s}\n",
      "t.yaml", "/tmp");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->load.think_time.kind, DistKind::kUniform);
  EXPECT_DOUBLE_EQ(r->load.think_time.min, 100e6);
  EXPECT_DOUBLE_EQ(r->load.think_time.max, 2e9);
}

TEST(ScenarioParse, RelativePathsResolveAgainstTheScenarioDirectory) {
  auto r = parse_scenario(
      "target: {model: m}\nload: {requests: 1}\nprompts: {source: jsonl, file: "
      "data/chat-prompts.jsonl}\n",
      "x.yaml", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->prompts.file,
            std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/data/chat-prompts.jsonl");
}

TEST(ScenarioParse, JsonFormReadsBackToTheSameModel) {
  setenv("LLMLOAD_TEST_KEY", "sk-test-123", 1);
  auto r = parse_scenario(kFull, "full.yaml", "/data");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(resolve_secrets(*r, true).empty());
  const nlohmann::json wire = scenario_to_json(*r, JsonMode::kWire);
  auto back = scenario_from_json(wire);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(scenario_to_json(*back, JsonMode::kWire), wire);
  // JSON objects keep their keys sorted: find the header by name.
  const auto& hs = back->targets[0].headers;
  auto key =
      std::find_if(hs.begin(), hs.end(), [](const Header& h) { return h.name == "x-api-key"; });
  ASSERT_NE(key, hs.end());
  EXPECT_EQ(key->value, "sk-test-123");
  EXPECT_TRUE(key->secret);
  // The redacted form never holds a secret value.
  const std::string redacted = redacted_json(*back).dump();
  EXPECT_EQ(redacted.find("sk-test-123"), std::string::npos);
  EXPECT_EQ(redacted.find("\"abc\""), std::string::npos);
  EXPECT_NE(redacted.find("\"x-api-key\":\"***\""), std::string::npos) << redacted;
  unsetenv("LLMLOAD_TEST_KEY");
}

TEST(ScenarioParse, ApiNamesRoundTrip) {
  for (Api a : {Api::kOpenAiChat, Api::kOpenAiCompletions, Api::kOllamaChat, Api::kOllamaGenerate,
                Api::kAnthropicMessages}) {
    EXPECT_EQ(parse_api(api_name(a)), a);
  }
  EXPECT_FALSE(parse_api("openai").has_value());
  EXPECT_TRUE(api_is_chat(Api::kAnthropicMessages));
  EXPECT_FALSE(api_is_chat(Api::kOllamaGenerate));
}

}  // namespace
}  // namespace llmload
