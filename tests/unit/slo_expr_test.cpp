// Assertion expressions: the grammar of DESIGN.md "SLOs and assertions", units, groups, and
// errors that name the column at fault.
#include "common/slo_expr.h"

#include <gtest/gtest.h>

namespace llmload {
namespace {

SloAssertion ok(const char* text) {
  auto a = parse_slo_expr(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.error();
  return a.ok() ? *a : SloAssertion{};
}

std::string err(const char* text) {
  auto a = parse_slo_expr(text);
  EXPECT_FALSE(a.ok()) << text;
  return a.ok() ? "" : a.error();
}

TEST(SloExpr, MetricStatWithTimeUnitsInMilliseconds) {
  SloAssertion a = ok("ttft.p99 < 2s");
  EXPECT_EQ(a.kind, SloVarKind::kMetricStat);
  EXPECT_EQ(a.metric, "ttft");
  EXPECT_EQ(a.stat, "p99");
  EXPECT_EQ(a.op, SloOp::kLt);
  EXPECT_DOUBLE_EQ(a.value, 2000);
  EXPECT_EQ(a.unit_as_written, "s");
  EXPECT_FALSE(a.group.has_value());
  EXPECT_FALSE(a.abort_on_fail);
  EXPECT_DOUBLE_EQ(ok("tpot.p95 <= 80ms").value, 80);
  EXPECT_DOUBLE_EQ(ok("itl.max<500us").value, 0.5);
  EXPECT_DOUBLE_EQ(ok("e2e.mean < 1.5m").value, 90000);
  EXPECT_DOUBLE_EQ(ok("e2e_sent.p50 < 1h").value, 3600000);
  EXPECT_DOUBLE_EQ(ok("connect.p999 < 250000ns").value, 0.25);
}

TEST(SloExpr, TotalsAndPercentages) {
  SloAssertion a = ok("error_rate < 1%");
  EXPECT_EQ(a.kind, SloVarKind::kTotal);
  EXPECT_EQ(a.variable(), "error_rate");
  EXPECT_DOUBLE_EQ(a.value, 0.01);
  EXPECT_DOUBLE_EQ(ok("goodput_ratio >= 0.95").value, 0.95);
  EXPECT_DOUBLE_EQ(ok("goodput_ratio >= 95%").value, 0.95);
  EXPECT_DOUBLE_EQ(ok("output_tokens_per_s > 500").value, 500);
  EXPECT_EQ(ok("rate_limited == 0").op, SloOp::kEq);
  EXPECT_EQ(ok("failed != 3").op, SloOp::kNe);
  EXPECT_EQ(ok("requests >= 100").op, SloOp::kGe);
  EXPECT_EQ(ok("requests_per_s > 2.5").op, SloOp::kGt);
  // Non-time metrics and counts take plain numbers.
  EXPECT_DOUBLE_EQ(ok("decode_tps.p50 > 30").value, 30);
  EXPECT_DOUBLE_EQ(ok("ttft.count >= 100").value, 100);
  EXPECT_DOUBLE_EQ(ok("output_tokens.mean > 100").value, 100);
  EXPECT_EQ(ok("output_tokens > 100").kind, SloVarKind::kTotal);
}

TEST(SloExpr, ClientFamilyAndDropped) {
  SloAssertion sat = ok("client.saturated == 0");
  EXPECT_EQ(sat.kind, SloVarKind::kClient);
  EXPECT_EQ(sat.variable(), "client.saturated");
  EXPECT_DOUBLE_EQ(sat.value, 0);
  SloAssertion lag = ok("client.loop_lag < 10ms");
  EXPECT_EQ(lag.kind, SloVarKind::kClient);
  EXPECT_DOUBLE_EQ(lag.value, 10);
  EXPECT_TRUE(slo_is_time(lag));
  EXPECT_DOUBLE_EQ(ok("client.loop_lag < 2500us").value, 2.5);
  EXPECT_DOUBLE_EQ(ok("client.cpu_busy < 90%").value, 0.9);
  EXPECT_DOUBLE_EQ(ok("client.cpu_busy < 0.9").value, 0.9);
  EXPECT_DOUBLE_EQ(ok("client.timing_uncertain_share <= 5%").value, 0.05);
  EXPECT_TRUE(slo_is_share(ok("client.timing_uncertain_share <= 5%")));
  SloAssertion dropped = ok("dropped == 0");
  EXPECT_EQ(dropped.kind, SloVarKind::kTotal);
  EXPECT_DOUBLE_EQ(ok("dropped_ratio < 1%").value, 0.01);
  EXPECT_DOUBLE_EQ(ok("dropped_ratio < 0.01").value, 0.01);
  EXPECT_DOUBLE_EQ(ok("model=a: dropped < 3").value, 3);

  EXPECT_EQ(err("client.loop_lag < 10"),
            "column 21: 'client.loop_lag' is a time: give a unit (ms, s, ...) in "
            "'client.loop_lag < 10'");
  EXPECT_EQ(err("client.loop_lag < 10%"),
            "column 21: '%' applies only to error_rate, goodput_ratio, dropped_ratio, "
            "client.cpu_busy and client.timing_uncertain_share in 'client.loop_lag < 10%'");
  EXPECT_EQ(err("client.cpu_busy < 90ms"),
            "column 21: 'client.cpu_busy' is not a time: no unit 'ms' in "
            "'client.cpu_busy < 90ms'");
  EXPECT_EQ(err("client.saturated == 0%"),
            "column 22: '%' applies only to error_rate, goodput_ratio, dropped_ratio, "
            "client.cpu_busy and client.timing_uncertain_share in 'client.saturated == 0%'");
  EXPECT_EQ(err("dropped < 1s"), "column 12: 'dropped' is not a time: no unit 's' in "
                                 "'dropped < 1s'");
  EXPECT_EQ(err("client.lag < 1ms"),
            "column 1: unknown variable 'client.lag' (client.saturated, client.loop_lag, "
            "client.cpu_busy, client.timing_uncertain_share) in 'client.lag < 1ms'");
  EXPECT_EQ(err("model=a: client.saturated == 0"),
            "column 10: 'client.saturated' describes the whole run: it takes no group "
            "selector in 'model=a: client.saturated == 0'");
}

TEST(SloExpr, ServerMetricsAndGroups) {
  SloAssertion s = ok("server.prompt_eval.p99 < 200ms");
  EXPECT_EQ(s.metric, "server.prompt_eval");
  EXPECT_EQ(s.stat, "p99");
  EXPECT_DOUBLE_EQ(s.value, 200);
  SloAssertion g = ok("model=llama-3-8b: ttft.p99 < 1s");
  ASSERT_TRUE(g.group.has_value());
  EXPECT_EQ(g.group->key, "model");
  EXPECT_EQ(g.group->value, "llama-3-8b");
  EXPECT_DOUBLE_EQ(g.value, 1000);
  EXPECT_EQ(ok("model=llama3:8b: ttft.p99 < 1s").group->value, "llama3:8b");
  EXPECT_EQ(ok("target=\"http://h:1/v1\": error_rate < 5%").group->value, "http://h:1/v1");
  EXPECT_EQ(ok("team='a b': failed == 0").group->value, "a b");
}

TEST(SloExpr, AbortOnFailAndText) {
  SloAssertion a = ok("  error_rate < 5% abort_on_fail  ");
  EXPECT_TRUE(a.abort_on_fail);
  EXPECT_EQ(a.text, "error_rate < 5% abort_on_fail");
  EXPECT_TRUE(a.holds(0.04));
  EXPECT_FALSE(a.holds(0.05));
  EXPECT_TRUE(ok("x=y: ok >= 1 abort_on_fail").abort_on_fail);
}

TEST(SloExpr, HoldsForEveryOperator) {
  EXPECT_TRUE(ok("ok < 2").holds(1));
  EXPECT_FALSE(ok("ok < 2").holds(2));
  EXPECT_TRUE(ok("ok <= 2").holds(2));
  EXPECT_TRUE(ok("ok > 2").holds(3));
  EXPECT_FALSE(ok("ok >= 2").holds(1));
  EXPECT_TRUE(ok("ok == 2").holds(2));
  EXPECT_TRUE(ok("ok != 2").holds(3));
  EXPECT_EQ(slo_op_text(SloOp::kGe), ">=");
}

TEST(SloExpr, ErrorsNameTheColumn) {
  EXPECT_EQ(err(""), "column 1: empty expression in ''");
  EXPECT_EQ(err("ttft.p99 < 2x"),
            "column 13: unknown unit 'x' (ns, us, ms, s, m, h or %) in 'ttft.p99 < 2x'");
  EXPECT_EQ(err("ttft.p98 < 2s"),
            "column 6: unknown statistic 'p98' (count, min, mean, stddev, p50, p90, p95, p99, "
            "p999, max) in 'ttft.p98 < 2s'");
  EXPECT_EQ(err("latency.p99 < 2s"), "column 1: unknown metric 'latency' in 'latency.p99 < 2s'");
  EXPECT_EQ(err("ttft < 2s"), "column 1: 'ttft' needs a statistic (e.g. ttft.p99) in 'ttft < 2s'");
  EXPECT_EQ(err("bogus < 2"), "column 1: unknown variable 'bogus' in 'bogus < 2'");
  EXPECT_EQ(err("ttft.p99 2s"),
            "column 10: expected an operator (<, <=, >, >=, ==, !=) in 'ttft.p99 2s'");
  EXPECT_EQ(err("ttft.p99 =< 2s"),
            "column 10: expected an operator (<, <=, >, >=, ==, !=) in 'ttft.p99 =< 2s'");
  EXPECT_EQ(err("ttft.p99 < fast"), "column 12: expected a number in 'ttft.p99 < fast'");
  EXPECT_EQ(err("ttft.p99 < 2000"),
            "column 16: 'ttft.p99' is a time: give a unit (ms, s, ...) in 'ttft.p99 < 2000'");
  EXPECT_EQ(err("requests < 5s"),
            "column 13: 'requests' is not a time: no unit 's' in 'requests < 5s'");
  EXPECT_EQ(err("ttft.p99 < 5%"),
            "column 13: '%' applies only to error_rate, goodput_ratio, dropped_ratio, "
            "client.cpu_busy and client.timing_uncertain_share in 'ttft.p99 < 5%'");
  EXPECT_EQ(
      err("ok > 1 abort"),
      "column 8: unexpected 'abort' (only 'abort_on_fail' may follow the value) in 'ok > 1 abort'");
  EXPECT_EQ(err("ok > 1 abort_on_fail now"),
            "column 22: unexpected text after 'abort_on_fail' in 'ok > 1 abort_on_fail now'");
  EXPECT_EQ(err("model=: ok > 1"), "column 7: empty group value in 'model=: ok > 1'");
  EXPECT_EQ(err("model=x ok > 1"),
            "column 8: unexpected character in group value (quote it, or end the selector with ': "
            "') in 'model=x ok > 1'");
  EXPECT_EQ(err("model=\"x: ok > 1"), "column 7: unterminated quote in 'model=\"x: ok > 1'");
  EXPECT_EQ(err("model=\"x\" ok > 1"),
            "column 10: expected ':' after the group selector in 'model=\"x\" ok > 1'");
  EXPECT_EQ(err("model=x"),
            "column 7: group selector without ':' (write key=value: expr) in 'model=x'");
}

}  // namespace
}  // namespace llmload
