#include "common/results_json.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "results_test_util.h"

namespace llmload {
namespace {

using nlohmann::json;
using testing_util::sample_result;

std::string fixture_path(const char* name) {
  return std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/results/" + name;
}

TEST(SummaryJson, RoundTripIsExact) {
  RunResult r = sample_result();
  std::string text = summary_to_string(r);
  auto back = parse_summary(text);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back->run == r.run);
  EXPECT_TRUE(back->total == r.total);
  ASSERT_EQ(back->groups.size(), 2u);
  EXPECT_TRUE(back->groups[0] == r.groups[0]);
  EXPECT_TRUE(back->groups[1] == r.groups[1]);
  EXPECT_EQ(back->cost_usd, r.cost_usd);
  EXPECT_EQ(back->assertions, r.assertions);
  EXPECT_TRUE(*back == r);
  // Writing what was read gives the same file, byte for byte.
  EXPECT_EQ(summary_to_string(*back), text);
}

TEST(SummaryJson, MergedFromIsWrittenOnlyForAMergeAndReadsBack) {
  RunResult r = sample_result();
  EXPECT_EQ(summary_to_string(r).find("merged_from"), std::string::npos);
  EXPECT_FALSE(summary_to_json(r)["run"].contains("merged_from"));
  r.run.merged_from = {
      {"a/summary.json", "run-a", "2026-11-23T18:52:50.123Z", 10.5, RunStatus::kCompleted, 1200},
      {"b/summary.json", "run-b", "", 0.25, RunStatus::kPartial, 7}};
  for (const std::string& text : {summary_to_string(r), summary_to_json(r).dump(2)}) {
    auto back = parse_summary(text);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->run.merged_from, r.run.merged_from);
    EXPECT_TRUE(*back == r);
  }
  // The bytes `llmload merge` wrote when it added run.merged_from to the JSON after formatting.
  RunResult plain = r;
  plain.run.merged_from.clear();
  json patched = summary_to_json(plain);
  patched["run"]["merged_from"] = json::array({json{{"source", "a/summary.json"},
                                                    {"id", "run-a"},
                                                    {"started_at", "2026-11-23T18:52:50.123Z"},
                                                    {"duration_s", 10.5},
                                                    {"status", "completed"},
                                                    {"requests", 1200}},
                                               json{{"source", "b/summary.json"},
                                                    {"id", "run-b"},
                                                    {"started_at", ""},
                                                    {"duration_s", 0.25},
                                                    {"status", "partial"},
                                                    {"requests", 7}}});
  EXPECT_EQ(summary_to_json(r).dump(2), patched.dump(2));
}

TEST(SummaryJson, MalformedMergedFromIsRejectedNamingTheField) {
  json j = summary_to_json(sample_result());
  j["run"]["merged_from"] = json::array({json{{"source", "a"},
                                              {"id", "x"},
                                              {"started_at", ""},
                                              {"duration_s", 1},
                                              {"status", "finished"},
                                              {"requests", 1}}});
  auto bad = parse_summary(j.dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("run.merged_from[0].status"), std::string::npos) << bad.error();
}

TEST(SummaryJson, SkeletonAndTypes) {
  RunResult r = sample_result();
  json j = summary_to_json(r);
  EXPECT_EQ(j["schema"], "llmload.summary/1");
  for (const char* k :
       {"id", "status", "exit_code", "started_at", "duration_s", "version", "command", "scenario",
        "seed", "host", "insecure", "workers", "client", "warnings"}) {
    EXPECT_TRUE(j["run"].contains(k)) << k;
  }
  EXPECT_EQ(j["run"]["status"], "completed");
  EXPECT_EQ(j["run"]["started_at"], "2026-11-23T18:59:30.123Z");
  EXPECT_TRUE(j["run"]["insecure"].is_boolean());
  EXPECT_EQ(j["run"]["workers"][1]["status"], "lost");
  for (const char* k : {"requests", "ok", "failed", "retries", "input_tokens", "output_tokens"}) {
    EXPECT_TRUE(j["totals"][k].is_number_integer()) << k;
  }
  for (const char* k : {"requests_per_s", "output_tokens_per_s", "goodput_per_s", "cost_usd"}) {
    EXPECT_TRUE(j["totals"][k].is_number()) << k;
  }
  EXPECT_DOUBLE_EQ(j["totals"]["requests_per_s"].get<double>(), 650 / 12.5);
  EXPECT_EQ(j["totals"]["requests"].get<int64_t>(),
            j["totals"]["ok"].get<int64_t>() + j["totals"]["failed"].get<int64_t>());
  EXPECT_TRUE(j["errors"]["http_429"]["count"].is_number_integer());
  EXPECT_TRUE(j["errors"]["dns"]["samples"].is_array());
  EXPECT_EQ(j["errors"]["dns"]["count"], 0);
  // The qwen group has no price: its cost is null; the total sums the priced ones.
  EXPECT_TRUE(j["groups"][1]["totals"]["cost_usd"].is_null());
  EXPECT_TRUE(j["groups"][0]["totals"]["cost_usd"].is_number());
  EXPECT_EQ(j["groups"][0]["labels"]["model"], "llama-3-8b");
  EXPECT_EQ(j["assertions"][0]["expr"], "ttft.p99 < 2s");
  EXPECT_TRUE(j["assertions"][2]["value"].is_null());
  EXPECT_EQ(j["metrics"]["server.prompt_eval_ms"]["unit"], "ms");
  EXPECT_FALSE(j["metrics"].contains("ttft_sent"));  // never recorded: not reported
}

TEST(SummaryJson, FailedIsPresentEvenWhenZero) {
  RunResult r;
  r.run.duration_s = 1;
  r.total.counters.requests = r.total.counters.ok = 3;
  json j = summary_to_json(r);
  ASSERT_TRUE(j["totals"].contains("failed"));
  EXPECT_TRUE(j["totals"]["failed"].is_number_integer());
  EXPECT_EQ(j["totals"]["failed"], 0);
  EXPECT_TRUE(j["totals"]["cost_usd"].is_null());
}

// The number contract: times are the histogram's own values / 1000, unrounded.
TEST(SummaryJson, TimeStatisticsAreHistogramValuesOverAThousand) {
  RunResult r;
  r.run.duration_s = 1;
  r.total.counters.requests = r.total.counters.ok = 1;
  r.total.record(Metric::kTtft, 1234);
  json m = summary_to_json(r)["metrics"]["ttft"];
  EXPECT_EQ(m["unit"], "ms");
  EXPECT_EQ(m["hdr_unit"], "us");
  EXPECT_TRUE(m["count"].is_number_integer());
  EXPECT_EQ(m["count"], 1);
  EXPECT_TRUE(m["p50"].is_number_float());
  EXPECT_EQ(m["p50"].get<double>(), 1.234);
  EXPECT_EQ(m["p50"].get<double>(),
            double(r.total.histogram(Metric::kTtft)->value_at_percentile(50)) / 1000.0);
  EXPECT_EQ(m["min"].get<double>(), 1.234);
  EXPECT_EQ(m["max"].get<double>(), 1.234);
  EXPECT_EQ(m["mean"].get<double>(), 1.234);

  // Above 2048 µs buckets are wider than 1: the statistic is the bucket's highest equivalent
  // value / 1000, exactly as the reference reports it, not the recorded value.
  RunResult wide;
  wide.run.duration_s = 1;
  std::mt19937 rng(9);
  for (int i = 0; i < 5000; ++i) wide.total.record(Metric::kE2e, 1000 + rng() % 5'000'000);
  json e = summary_to_json(wide)["metrics"]["e2e"];
  auto h = HdrHistogram::from_base64(e["hdr"].get<std::string>());
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(h->total_count(), 5000);
  const std::pair<const char*, double> pct[] = {
      {"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}};
  for (const auto& [key, p] : pct) {
    EXPECT_EQ(e[key].get<double>(), double(h->value_at_percentile(p)) / 1000.0) << key;
  }
  EXPECT_EQ(e["min"].get<double>(), double(h->min()) / 1000.0);
  EXPECT_EQ(e["max"].get<double>(), double(h->max()) / 1000.0);
  EXPECT_EQ(e["mean"].get<double>(), h->mean() / 1000.0);
  EXPECT_EQ(e["stddev"].get<double>(), h->stddev() / 1000.0);
  EXPECT_EQ(e["p99"].get<double>(),
            double(wide.total.histogram(Metric::kE2e)->value_at_percentile(99)) / 1000.0);
}

TEST(SummaryJson, CountMetricsAreWholeUnits) {
  RunResult r;
  r.run.duration_s = 1;
  for (int64_t v : {10, 20, 30, 4000}) r.total.record(Metric::kOutputTokens, v);
  json m = summary_to_json(r)["metrics"]["output_tokens"];
  EXPECT_EQ(m["unit"], "tokens");
  EXPECT_EQ(m["hdr_unit"], "tokens");
  EXPECT_TRUE(m["p50"].is_number_integer());
  EXPECT_EQ(m["p50"], 20);
  EXPECT_EQ(m["min"], 10);
  auto h = HdrHistogram::from_base64(m["hdr"].get<std::string>());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(m["max"].get<int64_t>(), h->max());
  EXPECT_EQ(m["mean"].get<double>(), h->mean());
}

TEST(SummaryJson, WritesAtomicallyAndReadsBackFromDisk) {
  auto dir =
      std::filesystem::temp_directory_path() / ("llmload-summary-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "summary.json").string();
  RunResult r = sample_result();
  auto written = write_summary_json(r, path);
  ASSERT_TRUE(written.ok()) << written.error();
  auto back = read_summary(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(*back == r);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "summary.json");
  }
  EXPECT_EQ(files, 1);
  auto missing = read_summary((dir / "nope.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope.json"), std::string::npos);
  std::filesystem::remove_all(dir);
}

void expect_rejected(const json& j, const std::string& field) {
  auto r = summary_from_json(j, "summary.json");
  ASSERT_FALSE(r.ok()) << "accepted; expected an error naming " << field;
  EXPECT_NE(r.error().find("summary.json: " + field), std::string::npos) << r.error();
}

TEST(SummaryJson, MalformedFilesAreRejectedNamingTheField) {
  const json good = summary_to_json(sample_result());
  ASSERT_TRUE(summary_from_json(good).ok());
  json j;

  j = good;
  j["schema"] = "llmload.summary/2";
  expect_rejected(j, "schema");
  j = good;
  j.erase("schema");
  expect_rejected(j, "schema: missing");
  j = good;
  j["totals"].erase("failed");
  expect_rejected(j, "totals.failed: missing");
  j = good;
  j["totals"]["ok"] = 1.0 * j["totals"]["ok"].get<int64_t>();
  expect_rejected(j, "totals.ok");
  j = good;
  j["totals"]["requests"] = j["totals"]["requests"].get<int64_t>() + 1;
  expect_rejected(j, "totals.requests");
  j = good;
  j["errors"]["http_429"]["count"] = 0;
  expect_rejected(j, "errors");
  j = good;
  j["errors"]["bogus"] = json{{"count", 0}, {"samples", json::array()}};
  expect_rejected(j, "errors.bogus");
  j = good;
  j["metrics"]["ttft"]["hdr"] = "HISTFAAAAnotreally";
  expect_rejected(j, "metrics.ttft.hdr: not a valid histogram");
  j = good;
  j["metrics"]["ttft"]["hdr"] = good["metrics"]["output_tokens"]["hdr"];
  expect_rejected(j, "metrics.ttft.hdr");
  j = good;
  j["metrics"]["ttft"]["count"] = j["metrics"]["ttft"]["count"].get<int64_t>() + 1;
  expect_rejected(j, "metrics.ttft.hdr: holds");
  j = good;
  j["metrics"]["ttft"]["p99"] = j["metrics"]["ttft"]["p99"].get<double>() * 0.5;
  expect_rejected(j, "metrics.ttft.p99");
  j = good;
  j["metrics"]["ttft"]["unit"] = "s";
  expect_rejected(j, "metrics.ttft.unit");
  j = good;
  j["metrics"]["e2e"]["hdr_unit"] = "ms";
  expect_rejected(j, "metrics.e2e.hdr_unit");
  j = good;
  j["metrics"]["latency"] = good["metrics"]["ttft"];
  expect_rejected(j, "metrics.latency: unknown metric");
  j = good;
  j["groups"][1]["labels"]["model"] = 7;
  expect_rejected(j, "groups[1].labels.model");
  j = good;
  j["groups"][0]["metrics"]["itl"]["hdr"] = 5;
  expect_rejected(j, "groups[0].metrics.itl.hdr");
  j = good;
  j["run"]["status"] = "done";
  expect_rejected(j, "run.status");
  j = good;
  j["run"]["workers"][0]["threads"] = -1;
  expect_rejected(j, "run.workers[0].threads");
  j = good;
  j["run"]["client"].erase("steal");
  expect_rejected(j, "run.client.steal: missing");
  j = good;
  j["assertions"][0]["value"] = "0.5";
  expect_rejected(j, "assertions[0].value");
  j = good;
  j["assertions"][1].erase("passed");
  expect_rejected(j, "assertions[1].passed: missing");
  expect_rejected(json::array(), "expected an object");
}

TEST(SummaryJson, RunClientCarriesTheSourceTheSharesAndTheCounts) {
  const json j = summary_to_json(sample_result());
  const json& c = j["run"]["client"];
  EXPECT_TRUE(c["saturated"].is_boolean());
  EXPECT_EQ(c["timestamps"], "mixed");
  EXPECT_DOUBLE_EQ(c["timestamps_kernel_share"].get<double>(), 600.0 / 900.0);
  EXPECT_DOUBLE_EQ(c["timing_uncertain_share"].get<double>(), 30.0 / 1200.0);
  EXPECT_NEAR(c["timing_uncertain_window_ms_p99"].get<double>(), 3.4, 0.01);
  EXPECT_EQ(c["token_reads"], 900);
  EXPECT_EQ(c["token_reads_kernel"], 600);
  EXPECT_EQ(c["timing_values"], 1200);
  EXPECT_EQ(c["timing_uncertain"], 30);
  EXPECT_EQ(c["loop_lag_hdr"].get<std::string>().rfind("HISTF", 0), 0u);

  json bad = j;
  bad["run"]["client"]["timestamps"] = "kernel";
  expect_rejected(bad, "run.client.timestamps: \"kernel\" but the counts say \"mixed\"");
  bad = j;
  bad["run"]["client"]["timing_uncertain_share"] = 0.5;
  expect_rejected(bad, "run.client.timing_uncertain_share");
  bad = j;
  bad["run"]["client"]["token_reads_kernel"] = 901;
  expect_rejected(bad, "run.client.token_reads_kernel: greater than token_reads");
  bad = j;
  bad["run"]["client"]["timing_uncertain"] = 1201;
  expect_rejected(bad, "run.client.timing_uncertain: greater than timing_values");
  bad = j;
  bad["run"]["client"]["loop_lag_hdr"] = j["metrics"]["output_tokens"]["hdr"];
  expect_rejected(bad, "run.client.loop_lag_hdr");
  bad = j;
  bad["run"]["client"].erase("uncertain_window_hdr");
  expect_rejected(bad, "run.client.uncertain_window_hdr: missing");
  bad = j;
  bad["run"]["client"]["cpu_busy"] = 1.5;
  expect_rejected(bad, "run.client.cpu_busy: outside [0, 1]");

  // A summary from before the timing counts reads as no token read, its lag p99 kept.
  json old = j;
  for (const char* k : {"timestamps", "timestamps_kernel_share", "timing_uncertain_share",
                        "timing_uncertain_window_ms_p99", "token_reads", "token_reads_kernel",
                        "timing_values", "timing_uncertain", "uncertain_window_hdr",
                        "loop_lag_hdr"})
    old["run"]["client"].erase(k);
  auto r = summary_from_json(old);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->run.client.timing.timestamps(), "none");
  EXPECT_DOUBLE_EQ(r->run.client.loop_lag_ms_p99, 1.25);
}

TEST(SummaryJson, TruncatedAndGarbageTextIsRejected) {
  std::string text = summary_to_string(sample_result());
  for (std::size_t cut :
       {std::size_t{0}, std::size_t{1}, text.size() / 3, text.size() / 2, text.size() - 3}) {
    auto r = parse_summary(std::string_view(text).substr(0, cut), "out/summary.json");
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_EQ(r.error().rfind("out/summary.json: not valid JSON", 0), 0u) << r.error();
  }
  std::string deep(10000, '[');
  auto r = parse_summary(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("nested deeper"), std::string::npos) << r.error();
}

TEST(SummaryJson, ReadsTheCheckedInFixture) {
  auto r = read_summary(fixture_path("summary_v1.json"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->run.id, "20261123-185250-abcd");
  EXPECT_EQ(r->total.counters.requests, 650);
  EXPECT_EQ(r->total.counters.requests, r->total.counters.ok + r->total.counters.failed);
  EXPECT_EQ(r->groups.size(), 2u);
  EXPECT_EQ(r->total.count(Metric::kTtft), r->total.counters.ok);
  // Merging the groups' histograms gives the stated total exactly.
  RunResult merged = *r;
  recompute_total(merged);
  EXPECT_TRUE(merged.total.counters == r->total.counters);
  for (Metric m : kAllMetrics) EXPECT_EQ(merged.total.count(m), r->total.count(m)) << name(m);
  EXPECT_EQ(merged.total.histogram(Metric::kE2e)->value_at_percentile(99),
            r->total.histogram(Metric::kE2e)->value_at_percentile(99));

  auto bad = read_summary(fixture_path("summary_bad_hdr.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("summary_bad_hdr.json: metrics.ttft.hdr: not a valid histogram"),
            std::string::npos)
      << bad.error();
}

// Regenerates the fixtures (not a test): unit_results_json_test --gtest_also_run_disabled_tests
//   --gtest_filter='*DISABLED_WriteFixtures'
TEST(SummaryJson, DISABLED_WriteFixtures) {
  RunResult r = sample_result();
  ASSERT_TRUE(write_summary_json(r, fixture_path("summary_v1.json")).ok());
  json j = summary_to_json(r);
  j["metrics"]["ttft"]["hdr"] = "HISTFAAAACx4nJNpmSzMwMDAxQABzFCaEUzOmQ";
  ASSERT_TRUE(write_file_atomic(fixture_path("summary_bad_hdr.json"), j.dump(2) + "\n").ok());
}

}  // namespace
}  // namespace llmload
