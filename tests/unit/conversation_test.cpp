// Multi-turn conversations: the bounded live history (the oldest turns leave it past the bound),
// the `turn` label and group_by, every adapter handing out a content chunk's text for
// history: live, and rate mode's sessions (the next turn after the previous ended plus think).
#include "common/conversation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/clock.h"
#include "worker/api_adapter.h"
#include "worker/json_scan.h"
#include "worker/scheduler_open.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr int64_t kMs = 1'000'000;

ResolvedPrompt conversation(size_t turns) {
  ResolvedPrompt p;
  p.system = "sys";
  for (size_t k = 0; k < turns; ++k)
    p.turns.push_back(Turn{"q" + std::to_string(k), "recorded" + std::to_string(k)});
  return p;
}

std::vector<std::string> contents(const std::vector<Message>& ms) {
  std::vector<std::string> out;
  for (const Message& m : ms) out.push_back(m.role + ":" + m.content);
  return out;
}

TEST(LiveHistory, EachTurnCarriesTheRepliesGivenNotTheRecordedOnes) {
  const ResolvedPrompt p = conversation(3);
  LiveHistory h(1024);
  EXPECT_EQ(contents(h.messages(p, 0)), (std::vector<std::string>{"system:sys", "user:q0"}));
  h.add(" alpha beta");
  EXPECT_EQ(
      contents(h.messages(p, 1)),
      (std::vector<std::string>{"system:sys", "user:q0", "assistant: alpha beta", "user:q1"}));
  h.add(" gamma");
  EXPECT_EQ(contents(h.messages(p, 2)),
            (std::vector<std::string>{"system:sys", "user:q0", "assistant: alpha beta", "user:q1",
                                      "assistant: gamma", "user:q2"}));
  EXPECT_EQ(h.bytes(), 17u);
  h.reset();
  EXPECT_EQ(h.turns(), 0u);
  EXPECT_EQ(contents(h.messages(p, 0)), (std::vector<std::string>{"system:sys", "user:q0"}));
}

TEST(LiveHistory, PastTheBoundTheOldestTurnsLeaveTheHistory) {
  const ResolvedPrompt p = conversation(4);
  LiveHistory h(10);
  h.add("aaaaaa");  // 6
  h.add("bbbb");    // 10: fits exactly
  EXPECT_EQ(h.first_kept(), 0u);
  h.add("cc");  // 12 > 10: turn 0 (user text and reply) leaves
  EXPECT_EQ(h.first_kept(), 1u);
  EXPECT_EQ(h.bytes(), 6u);
  EXPECT_EQ(h.turns(), 3u);
  EXPECT_EQ(contents(h.messages(p, 3)),
            (std::vector<std::string>{"system:sys", "user:q1", "assistant:bbbb", "user:q2",
                                      "assistant:cc", "user:q3"}));
  h.add(std::string(11, 'd'));  // alone over the bound: every reply leaves, this one too
  EXPECT_EQ(h.bytes(), 0u);
  EXPECT_EQ(h.first_kept(), 4u);
}

TEST(TurnLabel, OnePerTurnUpToTheCapAndGroupByCanLeaveItOut) {
  EXPECT_EQ(turn_label_value(0), "1");
  EXPECT_EQ(turn_label_value(14), "15");
  EXPECT_EQ(turn_label_value(15), "16+");
  EXPECT_EQ(turn_label_value(400), "16+");

  Scenario s;
  s.prompts.kind = PromptSourceKind::kConversations;
  Target t;
  t.name = "a";
  t.models = {ModelChoice{"m", 1}};
  s.targets = {t};
  ResolvedPrompt p = conversation(3);
  p.labels = {{"task", "travel"}};
  EXPECT_EQ(prompt_turn_labels(s, p, 1), (Labels{{"task", "travel"}, {"turn", "2"}}));
  const std::vector<Labels> groups = scenario_group_labels(s, {p});
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[2],
            (Labels{{"model", "m"}, {"target", "a"}, {"task", "travel"}, {"turn", "3"}}));
  EXPECT_TRUE(check_group_by(s, {p}).empty());

  s.group_by = std::vector<std::string>{"model", "turn"};
  EXPECT_TRUE(check_group_by(s, {p}).empty());
  s.group_by = std::vector<std::string>{"model"};
  EXPECT_EQ(prompt_turn_labels(s, p, 1), (Labels{{"task", "travel"}}));
  EXPECT_EQ(scenario_group_labels(s, {p}).size(), 1u);

  // A single prompt has no turn.
  ResolvedPrompt single;
  single.text = "hi";
  s.group_by.reset();
  s.prompts.kind = PromptSourceKind::kInline;
  EXPECT_EQ(prompt_turn_labels(s, single, 0), Labels{});
  s.group_by = std::vector<std::string>{"turn"};
  EXPECT_EQ(check_group_by(s, {single}).size(), 1u);
}

const char* kLiveYaml = R"(
target: {url: mock, model: m}
load: {rate: 2, requests: 10, think_time: 1s}
prompts:
  source: conversations
  items:
    - turns: [{user: hi, reply: hello}, {user: "and then"}]
  history: live
  history_max_bytes: 4096
  sticky: true
)";

TEST(ConversationScenario, LiveStickyAndARateModeThinkTimeParseAndRoundTrip) {
  auto s = parse_scenario(kLiveYaml, "live.yaml", "/tmp");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->prompts.history, History::kLive);
  EXPECT_EQ(s->prompts.history_max_bytes, 4096);
  EXPECT_TRUE(s->prompts.sticky);
  EXPECT_EQ(s->load.mode, LoadMode::kRate);
  EXPECT_FALSE(s->load.think_time.is_zero());  // a session's pause between turns
  auto back = scenario_from_json(scenario_to_json(*s, JsonMode::kWire));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->prompts.history_max_bytes, 4096);
  EXPECT_TRUE(back->prompts.sticky);
  EXPECT_EQ(scenario_to_json(*back, JsonMode::kWire), scenario_to_json(*s, JsonMode::kWire));
}

TEST(ConversationScenario, TheNewFieldsAreCheckedAndNamed) {
  auto bad = parse_scenario(R"(
target: {url: mock, model: m}
load: {rate: 2, requests: 10, think_time: 1s}
prompts:
  items: [hello]
  sticky: true
  history_max_bytes: 10
)",
                            "bad.yaml", "/tmp");
  ASSERT_FALSE(bad.ok());
  const std::string e = bad.error();
  EXPECT_NE(e.find("bad.yaml:3: load.think_time: applies to mode concurrency, or to rate mode "
                   "with source conversations"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:6: prompts.sticky: does not apply to source inline"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:7: prompts.history_max_bytes: does not apply to source inline"),
            std::string::npos)
      << e;
  std::string small = kLiveYaml;
  small.replace(small.find("4096"), 4, "10");
  auto tiny = parse_scenario(small, "tiny.yaml", "/tmp");
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.error().find("tiny.yaml:9: prompts.history_max_bytes"), std::string::npos)
      << tiny.error();
}

// Every API's content chunk hands out its text (as a JSON string) for history: live, reasoning
// and tool-call chunks whose text is one string theirs too (for the tokenizer's output count:
// the request keeps only content for history: live); other kinds hand out none.
struct TextCase {
  Api api;
  const char* event;
  const char* data;
  const char* text;  // decoded; "" for none
  ChunkKind kind = ChunkKind::content;
};

TEST(ChunkText, EveryAdapterHandsOutTheTextOfTextBearingChunks) {
  const TextCase cases[] = {
      {Api::kOpenAiChat, "", R"({"choices":[{"delta":{"content":" say \"hi\"\n"}}]})",
       " say \"hi\"\n"},
      {Api::kOpenAiChat, "", R"({"choices":[{"delta":{"reasoning_content":"hmm"}}]})", "hmm",
       ChunkKind::reasoning},
      {Api::kOpenAiChat, "", R"({"choices":[{"delta":{"reasoning":"hm2"}}]})", "hm2",
       ChunkKind::reasoning},
      {Api::kOpenAiChat, "",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a"}}]}}]})",
       "{\"a", ChunkKind::tool_call},
      {Api::kOpenAiChat, "",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get","arguments":""}}]}}]})",
       "get", ChunkKind::tool_call},
      // Not one string: a name and arguments together, two calls, no function: no text.
      {Api::kOpenAiChat, "",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]}}]})",
       "", ChunkKind::tool_call},
      {Api::kOpenAiChat, "",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1"}},{"index":1,"function":{"arguments":"2"}}]}}]})",
       "", ChunkKind::tool_call},
      {Api::kOpenAiChat, "", R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1"}]}}]})",
       "", ChunkKind::tool_call},
      {Api::kOllamaChat, "", R"({"message":{"role":"assistant","thinking":"t"},"done":false})", "t",
       ChunkKind::reasoning},
      {Api::kOllamaGenerate, "", R"({"thinking":"u","done":false})", "u", ChunkKind::reasoning},
      {Api::kOpenAiCompletions, "", R"({"choices":[{"text":" caf\u00e9"}]})", " café"},
      {Api::kOllamaChat, "", R"({"message":{"role":"assistant","content":" one"},"done":false})",
       " one"},
      {Api::kOllamaGenerate, "", R"({"response":" two","done":false})", " two"},
      {Api::kAnthropicMessages, "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" three"}})",
       " three"},
      {Api::kAnthropicMessages, "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}})",
       "x", ChunkKind::reasoning},
      {Api::kAnthropicMessages, "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}})",
       "{\"a\"", ChunkKind::tool_call},
      {Api::kAnthropicMessages, "content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"y"}})",
       "y", ChunkKind::reasoning},
      {Api::kAnthropicMessages, "ping", R"({"type":"ping"})", "", ChunkKind::other},
  };
  for (const TextCase& c : cases) {
    auto a = make_adapter(c.api);
    StreamState st;
    ChunkInfo out;
    ASSERT_EQ(a->classify(c.event, c.data, st, out), ClassifyStatus::ok) << c.data;
    EXPECT_EQ(out.kind, c.kind) << c.data;
    std::string text;
    if (!out.text_json.empty())
      ASSERT_TRUE(json_unescape(JsonSlice{JsonType::string, out.text_json}, text)) << c.data;
    EXPECT_EQ(text, c.text) << c.data;
  }
}

// Rate mode with sessions: a finished ticket naming a session gets its next turn after the
// think time, as a request of its own (intended start = end + think).
class SessionHost : public SchedulerHost {
 public:
  void start_request(const StartTicket& t) override { starts.push_back(t); }
  void on_dropped(const StartTicket& t) override { drops.push_back(t); }
  void cancel_in_flight() override {}
  std::vector<StartTicket> starts, drops;
};

TEST(OpenLoopSessions, ASessionsNextTurnStartsItsThinkTimeAfterThePreviousEnded) {
  FakeClock clock(0);
  SessionHost host;
  SchedulerConfig c;
  c.start_ns = 1000 * kMs;
  c.duration_ns = 10'000 * kMs;
  c.initial_level = 1;  // one arrival per second
  c.think_time = Distribution::fixed(300 * kMs);
  OpenLoopScheduler s(c, clock, host);
  clock.set(1000 * kMs);
  EXPECT_EQ(s.poll(), 2000 * kMs);  // the next arrival
  ASSERT_EQ(host.starts.size(), 1u);
  EXPECT_EQ(host.starts[0].user, -1);  // an arrival: a new session

  // The first turn ends at 1.25 s and the host says session 7 goes on.
  clock.set(1250 * kMs);
  StartTicket done = host.starts[0];
  done.user = 7;
  s.on_finished(done);
  EXPECT_EQ(s.poll(), 1550 * kMs);  // its next turn, before the next arrival
  clock.set(1550 * kMs);
  s.poll();
  ASSERT_EQ(host.starts.size(), 2u);
  EXPECT_EQ(host.starts[1].user, 7);
  EXPECT_EQ(host.starts[1].intended_ns, 1550 * kMs);
  EXPECT_TRUE(host.starts[1].open_loop);

  // A session's last turn (user -1 on the finished ticket): no follow-up.
  clock.set(1600 * kMs);
  StartTicket last = host.starts[1];
  last.user = -1;
  s.on_finished(last);
  EXPECT_EQ(s.poll(), 2000 * kMs);
  EXPECT_EQ(host.starts.size(), 2u);
}

TEST(OpenLoopSessions, AFollowUpOverTheCapIsDroppedLikeAnArrival) {
  FakeClock clock(0);
  SessionHost host;
  SchedulerConfig c;
  c.start_ns = 0;
  c.duration_ns = 10'000 * kMs;
  c.initial_level = 10;  // arrivals at 0, 100, 200, ... ms
  c.max_in_flight = 1;
  c.think_time = Distribution::fixed(100 * kMs);
  OpenLoopScheduler s(c, clock, host);
  s.poll();  // arrival at 0 starts
  ASSERT_EQ(host.starts.size(), 1u);
  clock.set(150 * kMs);
  s.poll();  // the arrival at 100 ms: over the cap, dropped
  ASSERT_EQ(host.drops.size(), 1u);
  StartTicket t = host.starts[0];
  t.user = 3;
  s.on_finished(t);  // session 3 goes on: its next turn is due at 250 ms
  clock.set(200 * kMs);
  s.poll();  // the arrival at 200 ms starts
  ASSERT_EQ(host.starts.size(), 2u);
  EXPECT_EQ(host.starts[1].user, -1);
  clock.set(250 * kMs);
  s.poll();  // session 3's turn, while the cap is reached: dropped, naming the session
  ASSERT_EQ(host.drops.size(), 2u);
  EXPECT_EQ(host.drops[1].user, 3);
  EXPECT_EQ(host.drops[1].intended_ns, 250 * kMs);
  EXPECT_EQ(host.starts.size(), 2u);
}

}  // namespace
}  // namespace llmload
