// The Prometheus text reader (common/prom_text.h) on a real llama-server page and on hostile
// input, and the series selection and run statistics built on it (common/target_series.h).
#include "common/prom_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "common/group_stats.h"
#include "common/overrides.h"
#include "common/results_csv.h"
#include "common/results_json.h"
#include "common/scenario.h"
#include "common/target_series.h"

namespace llmload {
namespace {

std::string capture() {
  std::ifstream in(std::string(LLMLOAD_CAPTURES_DIR) + "/llama-server-metrics.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double value_of(const PromPage& p, const std::string& series) {
  for (const auto& s : p.samples)
    if (s.series() == series) return s.value;
  ADD_FAILURE() << "no series " << series;
  return -1;
}

TEST(PromText, ReadsTheRealLlamaServerPage) {
  const std::string text = capture();
  ASSERT_FALSE(text.empty());
  auto page = parse_prom_text(text);
  ASSERT_TRUE(page.ok()) << page.error();
  EXPECT_EQ(page->skipped, 0) << page->first_problem;
  EXPECT_EQ(page->samples.size(), 12u);
  EXPECT_EQ(value_of(*page, "llamacpp:prompt_tokens_total"), 1972);
  EXPECT_EQ(value_of(*page, "llamacpp:prompt_seconds_total"), 71.904);
  EXPECT_EQ(value_of(*page, "llamacpp:kv_cache_usage_ratio"), 0.125);
  EXPECT_EQ(value_of(*page, "llamacpp:requests_processing"), 8);
  EXPECT_EQ(value_of(*page, "llamacpp:requests_deferred"), 6);

  // The llama.cpp preset keeps every series of the page.
  auto kept = select_target_series(*page, {});
  EXPECT_EQ(kept.size(), 12u);
  EXPECT_EQ(kept.at("llamacpp:requests_deferred"), 6);
}

TEST(PromText, LabelsEscapesSpecialValuesAndTimestamps) {
  const std::string text =
      "# HELP x help text\n"
      "# TYPE x gauge\n"
      "x{b=\"2\",a=\"q\\\"uo\\\\te\\n\"} 1.5e3 1700000000000\n"
      "y{gpu=\"0\",} +Inf\n"
      "z NaN\n"
      "  w\t-Inf\r\n"
      "v{} -0.25\n"
      "\n"
      "# a comment\n";
  auto page = parse_prom_text(text);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->skipped, 0) << page->first_problem;
  ASSERT_EQ(page->samples.size(), 5u);
  // Labels are sorted by name and their values re-escaped.
  EXPECT_EQ(page->samples[0].series(), "x{a=\"q\\\"uo\\\\te\\n\",b=\"2\"}");
  EXPECT_EQ(page->samples[0].value, 1500);
  EXPECT_EQ(page->samples[1].series(), "y{gpu=\"0\"}");
  EXPECT_TRUE(std::isinf(page->samples[1].value));
  EXPECT_TRUE(std::isnan(page->samples[2].value));
  EXPECT_TRUE(std::isinf(page->samples[3].value) && page->samples[3].value < 0);
  EXPECT_EQ(page->samples[4].series(), "v");
  // Non-finite values are never kept.
  auto kept = select_target_series(*page, {"x", "y", "z", "w", "v"});
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_TRUE(kept.count("v"));
}

TEST(PromText, MalformedLinesAreSkippedAndNamed) {
  const std::string text =
      "good 1\n"
      "9bad 1\n"
      "noval\n"
      "x{a=1} 2\n"
      "x{a=\"unterminated} 2\n"
      "x{a=\"v\"} 2 notatimestamp\n"
      "x{a=\"\\q\"} 2\n"
      "x inf\n"
      "x{a=\"1\",a=\"2\"} 3\n"
      "also_good 2\n";
  auto page = parse_prom_text(text);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->samples.size(), 2u);
  EXPECT_EQ(page->samples[1].name, "also_good");
  EXPECT_EQ(page->skipped, 8);
  EXPECT_EQ(page->first_problem, "line 2: bad metric name");
}

TEST(PromText, BoundsPageLinesLabelsAndSamples) {
  PromLimits lim;
  lim.max_page_bytes = 100;
  EXPECT_FALSE(parse_prom_text(std::string(101, 'a'), lim).ok());

  lim = PromLimits{};
  lim.max_line_bytes = 20;
  lim.max_labels = 2;
  lim.max_samples = 3;
  const std::string text = "a 1\n" + std::string("long_name_over_twenty_bytes 1\n") +
                           "b{x=\"1\",y=\"2\",z=\"3\"} 1\nc 1\nd 1\ne 1\n";
  auto page = parse_prom_text(text, lim);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->samples.size(), 3u);
  EXPECT_EQ(page->samples[2].name, "d");
  EXPECT_EQ(page->skipped, 3);  // the long line, the labels, the sample over the count
}

// Random mutations of the real page, bounded in count: the reader never crashes, never keeps
// more than its limits, and every kept sample has a valid name.
TEST(PromText, FuzzedMutationsOfTheRealPage) {
  const std::string base = capture();
  ASSERT_FALSE(base.empty());
  std::mt19937_64 rng(15);
  const char alphabet[] = "{}\",=\\\n# +-.eEInfNa0123456789_:x \t\r\xff";
  PromLimits lim;
  lim.max_samples = 50;
  for (int round = 0; round < 3000; ++round) {
    std::string s = base;
    const int edits = 1 + int(rng() % 12);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = alphabet[rng() % (sizeof alphabet - 1)];
          break;
        case 1:
          s.erase(at, 1 + rng() % 8);
          break;
        case 2:
          s.insert(at, std::string(1 + rng() % 4, alphabet[rng() % (sizeof alphabet - 1)]));
          break;
        default:
          s.insert(at, s.substr(rng() % s.size(), rng() % 64));
          break;
      }
    }
    auto page = parse_prom_text(s, lim);
    ASSERT_TRUE(page.ok());
    ASSERT_LE(page->samples.size(), lim.max_samples);
    for (const auto& smp : page->samples) {
      ASSERT_FALSE(smp.name.empty());
      ASSERT_TRUE(std::isalpha(static_cast<unsigned char>(smp.name[0])) || smp.name[0] == '_' ||
                  smp.name[0] == ':');
    }
    auto kept = select_target_series(*page, {});
    ASSERT_LE(kept.size(), kMaxTargetSeries);
    for (const auto& [name, v] : kept) ASSERT_TRUE(std::isfinite(v)) << name;
  }
}

TEST(TargetSeries, PresetsListsAndPrefixes) {
  auto page = parse_prom_text(
      "vllm:num_requests_running{model_name=\"m\"} 3\n"
      "vllm:e2e_request_latency_seconds_bucket{le=\"1\"} 9\n"
      "vllm:generation_tokens_total{model_name=\"m\"} 100\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 87\n"
      "tgi_queue_size 2\n"
      "process_cpu_seconds_total 5\n");
  ASSERT_TRUE(page.ok());
  auto presets = select_target_series(*page, {});
  EXPECT_EQ(presets.size(), 4u);  // no histogram bucket, no foreign series
  EXPECT_TRUE(presets.count("vllm:num_requests_running{model_name=\"m\"}"));
  EXPECT_TRUE(presets.count("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"}"));
  EXPECT_FALSE(presets.count("process_cpu_seconds_total"));

  auto listed = select_target_series(
      *page, {"process_cpu_seconds_total", "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"}", "tgi_*"});
  EXPECT_EQ(listed.size(), 3u);
  EXPECT_TRUE(listed.count("tgi_queue_size"));
  EXPECT_TRUE(listed.count("process_cpu_seconds_total"));
}

TEST(TargetSeries, RunStatisticsCounterDeltasAndEnergy) {
  TargetMetrics t;
  t.add({{"llamacpp:tokens_predicted_total", 100},
         {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"}", 1'000'000},
         {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"1\"}", 2'000'000}});
  t.add({{"llamacpp:tokens_predicted_total", 160}});
  t.add({{"llamacpp:tokens_predicted_total", 400},
         {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"}", 1'500'000},
         {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"1\"}", 2'250'000}});
  const SeriesStats& s = t.series.at("llamacpp:tokens_predicted_total");
  EXPECT_EQ(s.samples, 3);
  EXPECT_EQ(s.first, 100);
  EXPECT_EQ(s.last, 400);
  EXPECT_EQ(s.min, 100);
  EXPECT_EQ(s.max, 400);
  EXPECT_DOUBLE_EQ(s.mean(), 220);
  EXPECT_EQ(t.server_output_tokens(), 300);
  EXPECT_DOUBLE_EQ(*t.energy_joules(), 750);  // (500,000 + 250,000) mJ
  EXPECT_FALSE(TargetMetrics{}.energy_joules().has_value());
}

TEST(TargetSeries, SnapshotWireFormIsOptionalAndChecked) {
  IntervalSnapshot s;
  s.end_ns = 1;
  s.target = {{"llamacpp:requests_processing", 8}, {"x{gpu=\"0\"}", 1.5}};
  s.target_failed = 2;
  s.target_error = "HTTP 404";
  auto back = IntervalSnapshot::from_wire(s.to_wire());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, s);

  IntervalSnapshot plain;
  EXPECT_FALSE(plain.to_wire().contains("target"));  // absent when empty: old peers still read it
  auto j = s.to_wire();
  j["target"]["bad"] = "text";
  auto bad = IntervalSnapshot::from_wire(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("target.bad"), std::string::npos) << bad.error();
}

// timeseries.csv: one column per series after the fixed ones, empty where a row has no scrape,
// read back as the same values.
TEST(TargetSeries, TimeseriesColumnsRoundTrip) {
  std::vector<IntervalRow> rows(3);
  for (int i = 0; i < 3; ++i) rows[size_t(i)].elapsed_s = i + 1;
  rows[0].target = {{"llamacpp:requests_processing", 8}, {"g{gpu=\"0\"}", 0.5}};
  rows[2].target = {{"llamacpp:requests_processing", 3}};
  const std::string csv = timeseries_csv(rows);
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_TRUE(header.ends_with(
      ",errors,client_cancelled,\"g{gpu=\"\"0\"\"}\",llamacpp:requests_processing"))
      << header;
  auto back = parse_timeseries_csv(csv, "timeseries.csv");
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].target, rows[0].target);
  EXPECT_TRUE((*back)[1].target.empty());
  EXPECT_EQ((*back)[2].target, rows[2].target);
  // Without series the file is as before: no extra column.
  EXPECT_EQ(timeseries_csv({IntervalRow{}}).substr(0, timeseries_csv_header().size()),
            timeseries_csv_header());
}

// summary.json: `target` and `target_metrics` written only when scraped, and read back.
TEST(TargetSeries, SummaryJsonWritesAndReadsTarget) {
  RunResult r;
  EXPECT_FALSE(summary_to_json(r).contains("target"));
  r.total.counters.output_tokens = 500;
  r.target.url = "http://h:8080/metrics";
  r.target.scrapes = 3;
  r.target.failed = 1;
  r.target.first_error = "HTTP 503";
  r.target.add({{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"}", 1000}});
  r.target.add({{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"}", 251000}});
  auto j = summary_to_json(r);
  EXPECT_EQ(j["target"]["energy_j"], 250.0);
  EXPECT_EQ(j["target"]["output_tokens_per_joule"], 2.0);
  EXPECT_TRUE(j["target"]["server_output_tokens"].is_null());
  EXPECT_EQ(j["target_metrics"]["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"}"]["mean"], 126000);
  auto back = parse_summary(summary_to_string(r));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->target, r.target);
}

// target.metrics_url / target.metrics: parsed, carried to the workers, and every bad value an
// error naming its field.
TEST(TargetMetricsScenario, ParsedCarriedAndChecked) {
  auto ok = parse_scenario(
      "target: {url: mock, model: m, metrics_url: mock, metrics: [vllm:*, x]}\n"
      "load: {requests: 1}\n",
      "t.yaml", "/tmp");
  ASSERT_TRUE(ok.ok()) << ok.error();
  ASSERT_NE(metrics_target(*ok), nullptr);
  EXPECT_EQ(metrics_target(*ok)->metrics, (std::vector<std::string>{"vllm:*", "x"}));
  auto wire = scenario_from_json(scenario_to_json(*ok, JsonMode::kWire));
  ASSERT_TRUE(wire.ok()) << wire.error();
  EXPECT_EQ(wire->targets[0].metrics_url, "mock");
  EXPECT_EQ(wire->targets[0].metrics, ok->targets[0].metrics);

  auto https = parse_scenario(
      "target: {url: mock, model: m, metrics_url: 'https://h/metrics'}\nload: {requests: 1}\n",
      "t.yaml", "/tmp");
  ASSERT_FALSE(https.ok());
  EXPECT_NE(https.error().find("target.metrics_url: https is not supported"), std::string::npos)
      << https.error();
  auto bad_list = parse_scenario(
      "target: {url: mock, model: m, metrics_url: mock, metrics: {a: 1}}\nload: {requests: 1}\n",
      "t.yaml", "/tmp");
  ASSERT_FALSE(bad_list.ok());
  EXPECT_NE(bad_list.error().find("target.metrics: expected a list"), std::string::npos)
      << bad_list.error();
  auto no_url = parse_scenario("target: {url: mock, model: m, metrics: [x]}\nload: {requests: 1}\n",
                               "t.yaml", "/tmp");
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.error().find("metrics: needs metrics_url"), std::string::npos) << no_url.error();
  auto mock_url = parse_scenario(
      "target: {url: 'http://h:1', model: m, metrics_url: mock}\nload: {requests: 1}\n", "t.yaml",
      "/tmp");
  ASSERT_FALSE(mock_url.ok());
  EXPECT_NE(mock_url.error().find("metrics_url mock needs url mock"), std::string::npos);
}

TEST(TargetMetricsScenario, OverrideSetsTheFirstTarget) {
  auto s = parse_scenario("target: {url: mock, model: m}\nload: {requests: 1}\n", "t.yaml", "/tmp");
  ASSERT_TRUE(s.ok());
  Overrides o;
  o.target_metrics = "http://127.0.0.1:9090/metrics";
  EXPECT_TRUE(apply_overrides(*s, o).empty());
  EXPECT_EQ(s->targets[0].metrics_url, "http://127.0.0.1:9090/metrics");
  o.target_metrics = "ftp://x";
  auto errors = apply_overrides(*s, o);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("--target-metrics: expected http://", 0), 0u) << errors[0];
}

}  // namespace
}  // namespace llmload
