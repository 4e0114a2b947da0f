// Issue 19 end to end against `llmload mock --truth` (the mock logs a hash of every request's
// body): a synthetic run sends a distinct body on every request however many it makes (20,000
// short prompts; 2,000 prompts of 8,000 words), unique_prefix makes a two-prompt dataset send
// distinct bodies, a 5,000-entry JSONL dataset (read on the worker) sends 5,000 distinct
// bodies, and trace replay (the three formats, scenarios/trace-*.yaml) sends one
// request per row with the row's output length as max_tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/trace.h"
#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::Proc;
using llmload_test::run_llmload;
using llmload_test::slurp;
using llmload_test::start_mock;
using llmload_test::wait_exit;

const std::string kScenarios = std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/";

// A mock with a truth log; stop() ends it (SIGINT) so the log is flushed, then reads it.
struct TruthMock {
  explicit TruthMock(const fs::path& dir) : truth(dir / "truth.jsonl") {
    url = start_mock(proc, (dir / "mock.log").string(),
                     {"--truth", truth.string(), "--ttft", "0s", "--itl", "0s"});
  }
  std::vector<nlohmann::json> stop() {
    ::kill(proc.pid, SIGINT);
    EXPECT_EQ(wait_exit(proc, 30), 0);
    std::vector<nlohmann::json> out;
    std::istringstream in(slurp(truth.string()));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      // Only generation requests (the pre-flight's model list is a plain reply: api "").
      if (!j.is_discarded() && !j["api"].get<std::string>().empty()) out.push_back(std::move(j));
    }
    return out;
  }
  Proc proc;
  fs::path truth;
  std::string url;
};

// Runs `scenario` (YAML text) against `url`; the exit code (the log is in dir/log).
int run_scenario(const fs::path& dir, const std::string& yaml, const std::string& extra = "") {
  std::ofstream(dir / "s.yaml") << yaml;
  return run_llmload("run " + (dir / "s.yaml").string() + " --out " + (dir / "out").string() +
                         " --no-report " + extra,
                     (dir / "log").string());
}

std::set<std::string> body_hashes(const std::vector<nlohmann::json>& truth) {
  std::set<std::string> out;
  for (const auto& t : truth) out.insert(t["body_hash"].get<std::string>());
  return out;
}

TEST(PromptUniqueness, TwentyThousandSyntheticRequestsSendTwentyThousandDistinctBodies) {
  const fs::path d = fresh_dir("llmload_unique_20k");
  TruthMock mock(d);
  ASSERT_FALSE(mock.url.empty()) << slurp((d / "mock.log").string());
  const int code = run_scenario(d, "target: {url: \"" + mock.url +
                                       "\", api: openai-chat, model: m}\n"
                                       "load: {concurrency: 64, requests: 20000}\n"
                                       "prompts: {source: synthetic, input_tokens: 12}\n"
                                       "output: {max_tokens: 1}\n");
  const auto truth = mock.stop();
  ASSERT_EQ(code, 0) << slurp((d / "log").string());
  ASSERT_EQ(truth.size(), 20000u);
  EXPECT_EQ(body_hashes(truth).size(), 20000u);
}

TEST(PromptUniqueness, TwoThousandEightThousandWordPromptsAreAllDistinct) {
  const fs::path d = fresh_dir("llmload_unique_8k_words");
  TruthMock mock(d);
  ASSERT_FALSE(mock.url.empty()) << slurp((d / "mock.log").string());
  const int code = run_scenario(d, "target: {url: \"" + mock.url +
                                       "\", api: openai-chat, model: m}\n"
                                       "load: {concurrency: 16, requests: 2000}\n"
                                       "prompts: {source: synthetic, input_tokens: 8000}\n"
                                       "output: {max_tokens: 1}\n");
  const auto truth = mock.stop();
  ASSERT_EQ(code, 0) << slurp((d / "log").string());
  ASSERT_EQ(truth.size(), 2000u);
  EXPECT_EQ(body_hashes(truth).size(), 2000u);
  for (const auto& t : truth) ASSERT_EQ(t["prompt_tokens"], 8000) << t.dump();
}

TEST(PromptUniqueness, UniquePrefixMakesEveryRequestOfATwoPromptDatasetDistinct) {
  const fs::path d = fresh_dir("llmload_unique_dataset");
  TruthMock mock(d);
  ASSERT_FALSE(mock.url.empty()) << slurp((d / "mock.log").string());
  const std::string base = "target: {url: \"" + mock.url +
                           "\", api: openai-chat, model: m}\n"
                           "load: {concurrency: 4, requests: 300}\n"
                           "output: {max_tokens: 1}\n"
                           "prompts: {source: inline, items: [one prompt, another prompt]";
  ASSERT_EQ(run_scenario(d, base + ", unique_prefix: true}\n"), 0) << slurp((d / "log").string());
  fs::rename(d / "out", d / "out-unique");
  // Without it the two prompts repeat: the control that shows the hash tells bodies apart.
  ASSERT_EQ(run_scenario(d, base + "}\n"), 0) << slurp((d / "log").string());
  const auto truth = mock.stop();
  ASSERT_EQ(truth.size(), 600u);
  const std::vector<nlohmann::json> tagged(truth.begin(), truth.begin() + 300);
  const std::vector<nlohmann::json> plain(truth.begin() + 300, truth.end());
  EXPECT_EQ(body_hashes(tagged).size(), 300u);
  EXPECT_EQ(body_hashes(plain).size(), 2u);
}

// A JSONL dataset larger than the 2,048 prompts a RUN used to carry: the worker reads the file
// and takes entries by run-wide request number, so with shuffle (and sequential) sampling 5,000
// requests over a 5,000-entry file send every entry once, and random sampling reaches entries
// past the first 2,048. (Concurrency 7 gives the loops unequal budgets.)
TEST(PromptUniqueness, FiveThousandEntryDatasetSendsFiveThousandDistinctBodies) {
  const fs::path d = fresh_dir("llmload_unique_dataset_5k");
  {
    std::ofstream f(d / "ds.jsonl");
    for (int i = 0; i < 5000; ++i) f << "{\"prompt\": \"dataset entry " << i << "\"}\n";
  }
  TruthMock mock(d);
  ASSERT_FALSE(mock.url.empty()) << slurp((d / "mock.log").string());
  auto scenario = [&](const std::string& sampling) {
    return "target: {url: \"" + mock.url +
           "\", api: openai-chat, model: m}\n"
           "load: {concurrency: 7, requests: 5000}\n"
           "prompts: {source: jsonl, file: ds.jsonl, sampling: " +
           sampling +
           "}\n"
           "output: {max_tokens: 1}\n";
  };
  int run = 0;
  for (const char* sampling : {"shuffle", "sequential", "random"}) {
    ASSERT_EQ(run_scenario(d, scenario(sampling), "--threads 2"), 0)
        << sampling << slurp((d / "log").string());
    fs::rename(d / "out", d / ("out-" + std::to_string(run++)));
  }
  const auto truth = mock.stop();
  ASSERT_EQ(truth.size(), 15000u);
  const std::vector<nlohmann::json> shuffled(truth.begin(), truth.begin() + 5000);
  const std::vector<nlohmann::json> sequential(truth.begin() + 5000, truth.begin() + 10000);
  const std::vector<nlohmann::json> random(truth.begin() + 10000, truth.end());
  EXPECT_EQ(body_hashes(shuffled).size(), 5000u);
  EXPECT_EQ(body_hashes(sequential).size(), 5000u);
  EXPECT_EQ(body_hashes(shuffled), body_hashes(sequential));  // the same 5,000 entries
  // With replacement: about 1 - 1/e of the entries (~3,160), far past what a list of 2,048
  // could hold.
  EXPECT_GT(body_hashes(random).size(), 2900u);
  EXPECT_LT(body_hashes(random).size(), 3400u);
}

// The output lengths a trace's rows ask for, as the mock counts them (at least 1 token).
std::multiset<int64_t> output_lengths(const llmload::Trace& t, size_t rows_sent) {
  std::multiset<int64_t> out;
  for (size_t i = 0; i < rows_sent; ++i)
    out.insert(std::max<int64_t>(1, t.rows[i % t.rows.size()].output_tokens));
  return out;
}

std::multiset<int64_t> tokens_sent(const std::vector<nlohmann::json>& truth) {
  std::multiset<int64_t> out;
  for (const auto& t : truth) out.insert(t["tokens"].get<int64_t>());
  return out;
}

struct TraceCase {
  const char* scenario;  // scenarios/<name>.yaml
  const char* file;      // its trace, in scenarios/data/
  llmload::TraceFormat format;
};

class TraceReplay : public ::testing::TestWithParam<TraceCase> {};

// The ready scenarios run as they are (only the target moved to a mock with a truth log).
TEST_P(TraceReplay, ReadyScenarioSendsOneRequestPerRowWithItsOutputLength) {
  const TraceCase c = GetParam();
  const fs::path d = fresh_dir(std::string("llmload_") + c.scenario);
  auto trace = llmload::load_trace({kScenarios + "data/" + c.file, c.format});
  ASSERT_TRUE(trace.ok()) << trace.error();
  TruthMock mock(d);
  ASSERT_FALSE(mock.url.empty()) << slurp((d / "mock.log").string());
  const int code = run_llmload("run " + kScenarios + c.scenario + ".yaml --target " + mock.url +
                                   " --out " + (d / "out").string() +
                                   " --no-report --requests-jsonl " + (d / "calls.jsonl").string(),
                               (d / "log").string());
  const auto truth = mock.stop();
  ASSERT_EQ(code, 0) << slurp((d / "log").string());
  ASSERT_EQ(truth.size(), trace->rows.size());
  EXPECT_EQ(tokens_sent(truth), output_lengths(*trace, trace->rows.size()));
  // Azure rows carry no prompt identity: each is synthesized on its own. (Mooncake rows with
  // the same hash ids and lengths are the same prompt, as in production.)
  if (c.format == llmload::TraceFormat::kAzure) {
    EXPECT_EQ(body_hashes(truth).size(), trace->rows.size());
  }
  // The per-call log names each request's trace line in its `prompt` field: every line once.
  std::set<int64_t> lines;
  std::istringstream calls(slurp((d / "calls.jsonl").string()));
  for (std::string line; std::getline(calls, line);)
    lines.insert(nlohmann::json::parse(line)["prompt"].get<int64_t>());
  EXPECT_EQ(lines.size(), trace->rows.size());
}

INSTANTIATE_TEST_SUITE_P(
    Formats, TraceReplay,
    ::testing::Values(TraceCase{"trace-mooncake", "trace-mooncake.jsonl",
                                llmload::TraceFormat::kMooncake},
                      TraceCase{"trace-azure", "trace-azure.csv", llmload::TraceFormat::kAzure}),
    [](const auto& info) {
      return std::string(info.param.format == llmload::TraceFormat::kAzure ? "Azure" : "Mooncake");
    });

TEST(TraceReplayLoop, ALoopedTraceStartsOverUntilTheDurationAtItsSpeed) {
  const fs::path d = fresh_dir("llmload_trace_loop");
  const std::string file = kScenarios + "data/trace-replay.jsonl";
  auto trace = llmload::load_trace({file, llmload::TraceFormat::kJsonl});
  ASSERT_TRUE(trace.ok()) << trace.error();
  // The arrivals due before the duration, from the trace alone: (t + pass × period) / speed.
  const double speed = 4;
  const int64_t duration_ns = 1'500'000'000;
  const int64_t period = trace->span_ns + llmload::trace_loop_gap_ns(*trace);
  size_t due = 0;
  for (int64_t pass = 0;; ++pass) {
    size_t in_pass = 0;
    for (const auto& r : trace->rows)
      in_pass += double(r.t_ns + pass * period) / speed < double(duration_ns);
    due += in_pass;
    if (in_pass < trace->rows.size()) break;
  }
  ASSERT_GT(due, trace->rows.size()) << "the test needs a second pass";
  TruthMock mock(d);
  ASSERT_FALSE(mock.url.empty()) << slurp((d / "mock.log").string());
  const int code = run_scenario(d, "target: {url: \"" + mock.url +
                                       "\", api: openai-chat, model: m}\n"
                                       "load:\n  trace: {file: " +
                                       file +
                                       ", format: jsonl, loop: true, speed: 4}\n"
                                       "  duration: 1500ms\n");
  const auto truth = mock.stop();
  ASSERT_EQ(code, 0) << slurp((d / "log").string());
  ASSERT_EQ(truth.size(), due);
  EXPECT_EQ(tokens_sent(truth), output_lengths(*trace, due));
  // Rows with their own prompt send it (the same bytes each pass); the others are synthesized
  // per request: distinct bodies = the synthesized requests + each distinct given prompt.
  size_t given = 0, synthesized = 0;
  for (size_t i = 0; i < due; ++i)
    (trace->rows[i % trace->rows.size()].prompt >= 0 ? given : synthesized) += 1;
  EXPECT_EQ(body_hashes(truth).size(), synthesized + trace->prompts_json.size());
  EXPECT_GT(given, trace->prompts_json.size());
}

TEST(TraceReplayErrors, AMalformedTraceIsAnErrorNamingTheLineBeforeAnyRequest) {
  const fs::path d = fresh_dir("llmload_trace_bad");
  std::ofstream(d / "bad.jsonl")
      << "{\"t_ms\": 0, \"input_tokens\": 3, \"output_tokens\": 2}\n"
         "{\"t_ms\": 1, \"input_tokens\": \"many\", \"output_tokens\": 2}\n";
  const int code = run_scenario(d,
                                "target: {url: mock, api: openai-chat, model: m}\n"
                                "load: {trace: {file: bad.jsonl, format: jsonl}}\n");
  EXPECT_EQ(code, 2) << slurp((d / "log").string());
  EXPECT_NE(slurp((d / "log").string()).find("bad.jsonl:2: 'input_tokens' must be an integer"),
            std::string::npos)
      << slurp((d / "log").string());
}

}  // namespace
