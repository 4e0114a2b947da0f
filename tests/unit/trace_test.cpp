// Trace files: the three formats parsed to rows (times relative to the first row, tokens, hash
// ids, prompts, models, sessions), every malformed row an error naming the file and line, and
// the TraceScheduler sending each row at its time (speed, loop, duration, max_in_flight),
// driven by a FakeClock.
#include "common/trace.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"
#include "common/scenario.h"
#include "worker/scheduler_trace.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr int64_t kMs = 1'000'000;

Trace parse_ok(std::string_view text, TraceFormat f) {
  auto t = parse_trace(text, f, "t.jsonl");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error());
  return t.ok() ? std::move(t.value()) : Trace{};
}

std::string parse_error(std::string_view text, TraceFormat f) {
  auto t = parse_trace(text, f, "t.jsonl");
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.error();
}

TEST(TraceParse, MooncakeRowsWithHashIds) {
  const Trace t = parse_ok(
      "{\"timestamp\": 1000, \"input_length\": 1024, \"output_length\": 10, \"hash_ids\": [1, 2]}\n"
      "\n"
      "{\"timestamp\": 1500, \"input_length\": 700, \"output_length\": 3, \"hash_ids\": [1, 5]}\n",
      TraceFormat::kMooncake);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].t_ns, 0);
  EXPECT_EQ(t.rows[1].t_ns, 500 * kMs);
  EXPECT_EQ(t.rows[1].line, 3);
  EXPECT_EQ(t.rows[0].input_tokens, 1024);
  EXPECT_EQ(t.rows[1].output_tokens, 3);
  ASSERT_EQ(t.rows[1].hash_count, 2u);
  EXPECT_EQ(t.hash_ids[t.rows[1].hash_begin], 1u);
  EXPECT_EQ(t.hash_ids[t.rows[1].hash_begin + 1], 5u);
  EXPECT_EQ(t.span_ns, 500 * kMs);
}

TEST(TraceParse, AzureCsvWithDatetimesAndColumnsInAnyOrder) {
  const Trace t = parse_ok(
      "ContextTokens,TIMESTAMP,GeneratedTokens\n"
      "374,2023-11-16 18:15:46.6805900,44\r\n"
      "396,2023-11-16 18:15:50.9951690,109\n"
      "879,2023-11-17 00:00:00,5\n",
      TraceFormat::kAzure);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].input_tokens, 374);
  EXPECT_EQ(t.rows[0].output_tokens, 44);
  EXPECT_NEAR(double(t.rows[1].t_ns), 4'314'579'000.0, 1000.0);
  // 18:15:46.68059 → midnight the next day.
  EXPECT_NEAR(double(t.rows[2].t_ns), (5.0 * 3600 + 44 * 60 + 13.31941) * 1e9, 1e4);
}

TEST(TraceParse, OwnJsonlWithPromptModelAndSession) {
  const Trace t = parse_ok(
      "{\"t_ms\": 0, \"input_tokens\": 5, \"output_tokens\": 7, \"prompt\": \"say "
      "\\\"hi\\\"\\n\"}\n"
      "{\"t_ms\": 2.5, \"input_tokens\": 5, \"output_tokens\": 7, \"model\": \"m2\", "
      "\"session\": \"a\"}\n"
      "{\"t_ms\": 3, \"input_tokens\": 5, \"output_tokens\": 7, \"model\": \"m2\", "
      "\"session\": \"a\"}\n",
      TraceFormat::kJsonl);
  ASSERT_EQ(t.rows.size(), 3u);
  ASSERT_EQ(t.rows[0].prompt, 0);
  EXPECT_EQ(t.prompts_json[0], "say \\\"hi\\\"\\n");  // escaped for the JSON body
  EXPECT_EQ(t.rows[1].t_ns, 2'500'000);
  EXPECT_EQ(t.models, std::vector<std::string>{"m2"});
  EXPECT_EQ(t.rows[2].model, 0);
  EXPECT_TRUE(t.rows[1].has_session);
  EXPECT_EQ(t.rows[1].session, t.rows[2].session);
  EXPECT_EQ(t.rows[0].model, -1);
}

TEST(TraceParse, EveryMalformedRowIsAnErrorNamingTheLine) {
  const auto k = TraceFormat::kJsonl;
  const std::string ok = "{\"t_ms\": 0, \"input_tokens\": 1, \"output_tokens\": 1}\n";
  EXPECT_EQ(parse_error(ok + "{\"t_ms\": 1, \"input_tokens\": 1}\n", k),
            "t.jsonl:2: missing 'output_tokens'");
  EXPECT_EQ(parse_error(ok + "not json\n", k), "t.jsonl:2: not valid JSON");
  EXPECT_EQ(parse_error(ok + "[1]\n", k), "t.jsonl:2: expected a JSON object");
  EXPECT_EQ(parse_error("{\"t_ms\": 5, \"input_tokens\": 1, \"output_tokens\": 1}\n" + ok, k),
            "t.jsonl:2: time goes back (rows must be in time order)");
  EXPECT_EQ(parse_error("{\"t_ms\": -1, \"input_tokens\": 1, \"output_tokens\": 1}\n", k),
            "t.jsonl:1: time out of range (milliseconds, 0 .. 9e12)");
  EXPECT_EQ(parse_error("{\"t_ms\": 0, \"input_tokens\": -3, \"output_tokens\": 1}\n", k),
            "t.jsonl:1: 'input_tokens' out of range (0 .. 1000000)");
  EXPECT_EQ(parse_error("{\"t_ms\": \"0\", \"input_tokens\": 1, \"output_tokens\": 1}\n", k),
            "t.jsonl:1: 't_ms' must be a number (milliseconds)");
  EXPECT_EQ(parse_error(std::string(100, '[') + "\n", k), "t.jsonl:1: nested too deep");
  EXPECT_EQ(parse_error("", k), "t.jsonl: the trace has no rows");
  EXPECT_EQ(parse_error("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, "
                        "\"hash_ids\": [1, \"x\"]}\n",
                        TraceFormat::kMooncake),
            "t.jsonl:1: 'hash_ids' must be a list of integers");
  EXPECT_EQ(parse_error("TIMESTAMP,ContextTokens\n", TraceFormat::kAzure),
            "t.jsonl:1: the header must name the columns TIMESTAMP, ContextTokens and "
            "GeneratedTokens");
  EXPECT_EQ(
      parse_error("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n", TraceFormat::kAzure),
      "t.jsonl:2: TIMESTAMP: expected 'YYYY-MM-DD HH:MM:SS[.fraction]' or seconds");
  EXPECT_EQ(parse_error("TIMESTAMP,ContextTokens,GeneratedTokens\n1,x,2\n", TraceFormat::kAzure),
            "t.jsonl:2: ContextTokens: expected an integer 0 .. 1000000");
  EXPECT_EQ(load_trace(TraceSpec{"/nonexistent/trace.jsonl"}).error(),
            "/nonexistent/trace.jsonl: not a file");
  EXPECT_EQ(load_trace(TraceSpec{"/dev/null"}).error(), "/dev/null: not a file");
}

// A host that records starts and finishes each request at once.
class Host : public SchedulerHost {
 public:
  void start_request(const StartTicket& t) override { starts.push_back(t); }
  void on_dropped(const StartTicket& t) override { drops.push_back(t); }
  void cancel_in_flight() override {}
  std::vector<StartTicket> starts;
  std::vector<StartTicket> drops;
};

Trace four_rows() {
  return parse_ok(
      "{\"t_ms\": 100, \"input_tokens\": 1, \"output_tokens\": 1}\n"
      "{\"t_ms\": 110, \"input_tokens\": 1, \"output_tokens\": 1}\n"
      "{\"t_ms\": 130, \"input_tokens\": 1, \"output_tokens\": 1}\n"
      "{\"t_ms\": 400, \"input_tokens\": 1, \"output_tokens\": 1}\n",
      TraceFormat::kJsonl);
}

// Polls at every wake until the scheduler ends (bounded), finishing requests at once.
void drive(Scheduler& s, FakeClock& clock, Host& host, int64_t until) {
  for (int i = 0; i < 10000 && !s.ended(); ++i) {
    const int64_t wake = s.poll();
    for (; !host.starts.empty() && s.in_flight() > 0;) s.on_finished(host.starts.back());
    if (s.ended() || wake == kNever || wake >= until) break;
    clock.set(std::max(clock.now_ns(), wake));
  }
}

TEST(TraceScheduler, SendsEveryRowAtItsTimeScaledBySpeedThenEnds) {
  auto trace = std::make_shared<const Trace>(four_rows());
  FakeClock clock(1000 * kMs);
  Host host;
  SchedulerConfig c;
  c.start_ns = 1000 * kMs;
  TraceSpec spec;
  spec.speed = 2;
  TraceScheduler s(c, clock, host, trace, spec, trace_rows_for_loop(*trace, 0, 1));
  drive(s, clock, host, kNever);
  ASSERT_EQ(host.starts.size(), 4u);
  const int64_t want[] = {0, 5, 15, 150};  // trace ms / speed
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(host.starts[i].intended_ns, c.start_ns + want[i] * kMs) << i;
    EXPECT_EQ(host.starts[i].trace_seq, int64_t(i));
    EXPECT_TRUE(host.starts[i].open_loop);
  }
  EXPECT_TRUE(s.ended());
  EXPECT_EQ(s.end_reason(), Scheduler::EndReason::kBudget);
}

TEST(TraceScheduler, LoopStartsOverUntilTheDurationAndRowsSplitOverLoops) {
  auto trace = std::make_shared<const Trace>(four_rows());
  // Gap between passes: the mean gap, (400 - 100) / 3 = 100 ms; a pass is 400 ms.
  EXPECT_EQ(trace_loop_gap_ns(*trace), 100 * kMs);
  FakeClock clock(0);
  Host host;
  SchedulerConfig c;
  c.duration_ns = 1000 * kMs;
  TraceSpec spec;
  spec.loop = true;
  TraceScheduler s(c, clock, host, trace, spec, trace_rows_for_loop(*trace, 0, 1));
  drive(s, clock, host, kNever);
  // Passes at 0, 400, 800 ms: rows at 0,10,30,300 | 400,410,430,700 | 800,810,830 (then 1100).
  ASSERT_EQ(host.starts.size(), 11u);
  EXPECT_EQ(host.starts[4].intended_ns, 400 * kMs);
  EXPECT_EQ(host.starts[4].trace_seq, 4);  // pass 1, row 0
  EXPECT_EQ(s.end_reason(), Scheduler::EndReason::kWindow);

  // Two loops: rows alternate, and together they are the trace's rows, each once.
  std::set<uint32_t> all;
  for (int loop = 0; loop < 2; ++loop)
    for (uint32_t r : trace_rows_for_loop(*trace, loop, 2)) EXPECT_TRUE(all.insert(r).second);
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(trace_rows_for_loop(*trace, 1, 2), (std::vector<uint32_t>{1, 3}));
}

TEST(TraceScheduler, ArrivalsOverMaxInFlightAreDroppedNotDelayed) {
  auto trace = std::make_shared<const Trace>(four_rows());
  FakeClock clock(0);
  Host host;
  SchedulerConfig c;
  c.max_in_flight = 1;
  TraceScheduler s(c, clock, host, trace, TraceSpec{}, trace_rows_for_loop(*trace, 0, 1));
  // Nothing finishes: the first row starts, the other three are dropped at their times.
  for (int i = 0; i < 100 && !s.ended(); ++i) {
    const int64_t wake = s.poll();
    if (wake == kNever) break;
    clock.set(std::max(clock.now_ns(), wake));
  }
  EXPECT_EQ(host.starts.size(), 1u);
  ASSERT_EQ(host.drops.size(), 3u);
  EXPECT_EQ(host.drops[2].intended_ns, 300 * kMs);
  EXPECT_EQ(s.dropped(), 3);
}

TEST(TraceScheduler, SessionRowsStayOnOneLoop) {
  const Trace t = parse_ok(
      "{\"t_ms\": 0, \"input_tokens\": 1, \"output_tokens\": 1, \"session\": \"s1\"}\n"
      "{\"t_ms\": 1, \"input_tokens\": 1, \"output_tokens\": 1, \"session\": \"s1\"}\n"
      "{\"t_ms\": 2, \"input_tokens\": 1, \"output_tokens\": 1, \"session\": \"s1\"}\n",
      TraceFormat::kJsonl);
  size_t nonempty = 0;
  for (int loop = 0; loop < 4; ++loop) {
    const auto rows = trace_rows_for_loop(t, loop, 4);
    if (!rows.empty()) {
      ++nonempty;
      EXPECT_EQ(rows.size(), 3u);
    }
  }
  EXPECT_EQ(nonempty, 1u);
}

// load.trace in a scenario: parsed, checked, and round-tripped through the wire JSON.
std::string scenario_errors(const std::string& load) {
  auto s = parse_scenario("target: {url: mock, model: m}\nload: " + load + "\n", "s.yaml",
                          std::string(LLMLOAD_SOURCE_DIR) + "/scenarios");
  return s.ok() ? "" : s.error();
}

TEST(TraceScenario, ParsesInfersRateModeAndRoundTrips) {
  auto s = parse_scenario(
      "target: {url: mock, model: m}\n"
      "load: {trace: {file: data/trace-azure.csv, format: azure, speed: 2.5}, duration: 1m, "
      "max_in_flight: 9}\n",
      "s.yaml", std::string(LLMLOAD_SOURCE_DIR) + "/scenarios");
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_TRUE(s->load.trace.has_value());
  EXPECT_EQ(s->load.mode, LoadMode::kRate);
  EXPECT_EQ(s->load.trace->format, TraceFormat::kAzure);
  EXPECT_EQ(s->load.trace->speed, 2.5);
  EXPECT_FALSE(s->load.trace->loop);
  EXPECT_EQ(s->load.trace->file,
            std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/data/trace-azure.csv");
  EXPECT_EQ(s->load.max_in_flight, 9);
  auto back = scenario_from_json(scenario_to_json(*s, JsonMode::kWire));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->load.trace, s->load.trace);
  EXPECT_EQ(back->load.duration_ns, s->load.duration_ns);
  EXPECT_EQ(back->load.max_in_flight, 9);
}

TEST(TraceScenario, FieldsATraceReplacesAreErrorsAndALoopNeedsADuration) {
  EXPECT_NE(scenario_errors("{trace: {file: data/trace-azure.csv, format: azure}, rate: 5}")
                .find("load.rate: not with load.trace"),
            std::string::npos);
  EXPECT_NE(scenario_errors("{trace: {file: data/trace-azure.csv, format: azure}, requests: 5}")
                .find("load.requests: not with load.trace"),
            std::string::npos);
  EXPECT_NE(scenario_errors("{trace: {file: data/trace-azure.csv}}").find("load.trace.format"),
            std::string::npos);
  EXPECT_NE(scenario_errors("{trace: {file: nope.csv, format: azure}}").find("file not found"),
            std::string::npos);
  EXPECT_NE(scenario_errors("{trace: {file: data/trace-azure.csv, format: azure, loop: true}}")
                .find("load.trace.loop: a looped trace needs load.duration"),
            std::string::npos);
  EXPECT_NE(scenario_errors("{trace: {file: data/trace-azure.csv, format: azure, speed: 0}}")
                .find("load.trace.speed"),
            std::string::npos);
  EXPECT_EQ(scenario_errors("{trace: {file: data/trace-azure.csv, format: azure}}"), "");
}

}  // namespace
}  // namespace llmload
