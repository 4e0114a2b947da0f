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

TEST(SummaryTable, DisplayNamePutsTheModelFirst) {
  EXPECT_EQ(group_display_name(GroupStats(Labels{})), "total");
  EXPECT_EQ(group_display_name(GroupStats(Labels{{"model", "m"}, {"target", "t"}, {"a", "x"}})),
            "m x");
  EXPECT_EQ(group_display_name(GroupStats(Labels{{"target", "t"}})), "t");
}

}  // namespace
}  // namespace llmload::analysis
