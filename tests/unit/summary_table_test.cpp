// The terminal summary's per-group table: aligned columns, at most 78 columns, the rating per
// group, colour (ANSI) only when asked and only on the rating.
#include "analysis/report/summary_table.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace llmload::analysis {
namespace {

GroupStats group(const std::string& model, int64_t ttft_us, int64_t tps, int64_t failed) {
  GroupStats g(Labels{{"model", model}, {"target", "http://127.0.0.1:8000"}});
  for (int i = 0; i < 100; ++i) {
    g.record(Metric::kTtft, ttft_us);
    g.record(Metric::kDecodeTps, tps);
  }
  g.counters.requests = 100 + failed;
  g.counters.ok = 100;
  g.counters.failed = failed;
  return g;
}

RunResult two_groups() {
  RunResult r;
  r.run.duration_s = 10;
  r.groups.push_back(GroupResult{group("fast-model", 300'000, 150, 0), 0.125});
  r.groups.push_back(GroupResult{group("slow-model", 5'000'000, 10, 25), std::nullopt});
  recompute_total(r);
  return r;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

std::string strip_ansi(const std::string& s) {
  return std::regex_replace(s, std::regex("\x1b\\[[0-9;]*m"), "");
}

TEST(SummaryTable, OneAlignedRowPerGroupWithItsRating) {
  RunResult r = two_groups();
  std::string t = summary_group_table(r, default_rating_tiers(), false);
  auto ls = lines(t);
  ASSERT_EQ(ls.size(), 4u) << t;  // header, two groups, total
  EXPECT_EQ(ls[0].rfind("group", 0), 0u);
  const size_t rating_col = ls[0].find("rating");
  ASSERT_NE(rating_col, std::string::npos);
  EXPECT_EQ(ls[1].rfind("fast-model", 0), 0u);
  EXPECT_EQ(ls[1].substr(rating_col), "excellent");
  EXPECT_EQ(ls[2].rfind("slow-model", 0), 0u);
  EXPECT_EQ(ls[2].substr(rating_col), "poor");
  EXPECT_EQ(ls[3].rfind("total", 0), 0u);
  // Columns end where the header's do (right-aligned numbers).
  const size_t p50_end = ls[0].find("ttft p50") + 8;
  EXPECT_EQ(ls[1].substr(p50_end - 5, 5), "300.0") << ls[1];
  // The histogram's own value (highest equivalent of 5 s at 3 significant digits).
  EXPECT_EQ(ls[2].substr(p50_end - 6, 6), "5001.2") << ls[2];
  const size_t cost_end = ls[0].find("cost") + 4;
  EXPECT_EQ(ls[1].substr(cost_end - 7, 7), "$0.1250") << ls[1];
  EXPECT_EQ(ls[2].substr(cost_end - 1, 1), "-") << ls[2];
  const size_t err_end = ls[0].find("err%") + 4;
  EXPECT_EQ(ls[2].substr(err_end - 4, 4), "20.0") << ls[2];  // 25 of 125
  const size_t rps_end = ls[0].find("req/s") + 5;
  EXPECT_EQ(ls[1].substr(rps_end - 5, 5), "10.00") << ls[1];
  for (const auto& l : ls) EXPECT_LE(int(l.size()), kSummaryTableWidth) << l;
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
}

TEST(SummaryTable, ColourOnlyWhenAskedAndOnlyAroundTheRating) {
  RunResult r = two_groups();
  std::string plain = summary_group_table(r, default_rating_tiers(), false);
  std::string coloured = summary_group_table(r, default_rating_tiers(), true);
  EXPECT_NE(coloured, plain);
  EXPECT_EQ(strip_ansi(coloured), plain);
  EXPECT_NE(coloured.find("\x1b[1;32mexcellent\x1b[0m"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("\x1b[31mpoor\x1b[0m"), std::string::npos) << coloured;
}

TEST(SummaryTable, LongNamesAreCutAndMissingDataShowsADash) {
  RunResult r;
  r.run.duration_s = 2;
  r.groups.push_back(GroupResult{
      group("a-very-long-model-name-that-does-not-fit-at-all", 1'500'000, 60, 0), std::nullopt});
  GroupStats empty(Labels{{"model", "no-data"}});
  r.groups.push_back(GroupResult{empty, std::nullopt});
  recompute_total(r);
  auto ls = lines(summary_group_table(r, default_rating_tiers(), false));
  ASSERT_EQ(ls.size(), 4u);
  const size_t rating_col = ls[0].find("rating");
  EXPECT_EQ(ls[1].rfind("a-very-long-model~ ", 0), 0u) << ls[1];
  EXPECT_EQ(ls[1].substr(rating_col), "good");
  EXPECT_EQ(ls[2].substr(rating_col), "-");
  for (const auto& l : ls) EXPECT_LE(int(l.size()), kSummaryTableWidth) << l;
}

TEST(SummaryTable, CustomTiersAndNoGroups) {
  RunResult r = two_groups();
  auto tiers = parse_rating_tiers("fine:10s:5");
  ASSERT_TRUE(tiers.ok());
  auto ls = lines(summary_group_table(r, *tiers, false));
  const size_t rating_col = ls[0].find("rating");
  EXPECT_EQ(ls[1].substr(rating_col), "fine");
  EXPECT_EQ(ls[2].substr(rating_col), "fine");
  EXPECT_EQ(summary_group_table(RunResult{}, default_rating_tiers(), false), "");
}

TEST(SummaryClientLines, SourceUncertaintyHealthAndDroppedInRateMode) {
  RunResult r = two_groups();
  ClientTiming& t = r.run.client.timing;
  t.token_reads = 1000;
  t.token_reads_kernel = 750;
  t.timing_values = 4000;
  t.timing_uncertain = 92;
  for (int i = 0; i < 40; ++i) t.uncertain_window_us.record(4'100);
  r.run.client.loop_lag_ms_p99 = 12.3;
  r.run.client.cpu_busy = 0.95;
  r.run.client.saturated = true;
  auto ls = lines(summary_client_lines(r));
  ASSERT_EQ(ls.size(), 3u);  // concurrency mode, nothing dropped: no dropped line
  EXPECT_EQ(ls[0], "client: timestamps mixed (75.0% of token reads kernel-stamped)");
  EXPECT_EQ(ls[1], "client: 2.30% of ttft/itl values uncertain (window p99 4.10 ms)");
  EXPECT_EQ(ls[2], "client: loop lag p99 12.30 ms, cpu busy 95%, SATURATED");
  for (const auto& l : ls) EXPECT_LE(l.size(), size_t(kSummaryTableWidth)) << l;

  r.run.scenario = {{"load", {{"mode", "rate"}}}};
  r.groups[0].stats.counters.dropped = 25;
  recompute_total(r);  // 225 requests + 25 dropped arrivals
  ls = lines(summary_client_lines(r));
  ASSERT_EQ(ls.size(), 4u);
  EXPECT_EQ(ls[3], "dropped 25 (10.00% of arrivals)");

  RunResult none;
  ls = lines(summary_client_lines(none));
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0], "client: timestamps none (no token read)");
  EXPECT_EQ(ls[1], "client: 0.00% of ttft/itl values uncertain");
  EXPECT_EQ(ls[2], "client: loop lag p99 0.00 ms, cpu busy 0%, not saturated");
}

TEST(SummaryFindingLines, LongFindingsWrapWithinEightyColumnsAndKeepEveryWord) {
  RunResult r;
  Finding f;
  f.rule = "client_saturated";
  f.severity = "warning";
  f.message = "the load generator was saturated (loop lag p99 160.2 ms over 20 ms, cpu busy 97 %): "
              "its numbers partly measure itself, so latencies and rates are not the server's";
  f.advice = "add workers or --threads, or lower the load, and run again on a quieter machine "
             "before reading the latency figures";
  r.findings = {f};
  const std::string text = summary_finding_lines(r);
  std::istringstream in(text);
  std::string words_out, line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_LE(line.size(), 80u) << line;
    words_out += line + " ";
  }
  EXPECT_GE(lines, 4);
  EXPECT_EQ(text.rfind("finding warning client_saturated: the load generator", 0), 0u) << text;
  EXPECT_NE(text.find("\n  advice: add workers"), std::string::npos) << text;
  // Every word is there, in order.
  std::istringstream all(f.message + " " + f.advice);
  std::istringstream got(words_out);
  std::string w, g;
  got >> g >> g >> g;  // "finding warning client_saturated:"
  while (all >> w) {
    if (!(got >> g)) break;
    if (g == "advice:") got >> g;
    EXPECT_EQ(g, w);
  }
}

TEST(SummaryTable, DisplayNamePutsTheModelFirst) {
  EXPECT_EQ(group_display_name(GroupStats(Labels{})), "total");
  EXPECT_EQ(group_display_name(GroupStats(Labels{{"model", "m"}, {"target", "t"}, {"a", "x"}})),
            "m x");
  EXPECT_EQ(group_display_name(GroupStats(Labels{{"target", "t"}})), "t");
}

}  // namespace
}  // namespace llmload::analysis
