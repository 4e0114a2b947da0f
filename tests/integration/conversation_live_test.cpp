// Multi-turn conversations against the in-process mock, checked on the mock's truth log with
// --truth-text (each request's body and the answer text it streamed, and its connection):
//  - history: live: turn k's body carries, as the assistant message of turn k-1, exactly the text
//    the mock streamed in turn k-1's answer (and the whole history before it);
//  - sticky: every turn of a conversation on one connection, with several users thinking for
//    random times (so the pool's warmest-first reuse alone would mix them up);
//  - the bound: replies cut at history_max_bytes, the oldest turns leaving the history;
//  - rate mode: a session's turn k+1 is received after turn k's last byte plus the think time.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mock/mock_server.h"
#include "tests/integration/engine_test_util.h"

namespace llmload {
namespace {

using namespace enginetest;

struct Outcome {
  GroupStats total;
  std::vector<nlohmann::json> truth;  // generation requests only, in the order received
};

std::vector<ResolvedPrompt> conversations(int n, int turns, int64_t max_tokens) {
  std::vector<ResolvedPrompt> out;
  for (int i = 0; i < n; ++i) {
    ResolvedPrompt p;
    p.index = i;
    for (int k = 0; k < turns; ++k)
      p.turns.push_back(Turn{"conversation " + std::to_string(i) + " question " + std::to_string(k),
                             "a recorded reply that live history never sends"});
    p.max_tokens = max_tokens;
    out.push_back(p);
  }
  return out;
}

Outcome run_conversations(const mock::MockOptions& mo, const Scenario& s,
                          std::vector<ResolvedPrompt> prompts) {
  const std::string truth = temp_file("conversation-truth.jsonl");
  mock::MockOptions o = mo;
  o.truth_file = truth;
  o.truth_text = true;
  mock::MockServer server(o);
  Outcome out;
  EXPECT_TRUE(server.start().ok());
  Scenario sc = s;
  sc.targets[0].url = server.base_url();
  Worker w(WorkerOptions{1});
  RunSpec spec;
  spec.scenario = std::make_shared<Scenario>(sc);
  spec.prompts = std::make_shared<std::vector<ResolvedPrompt>>(std::move(prompts));
  spec.share = split_load(sc.load, {1}, sc.seed)[0];
  EXPECT_TRUE(w.start(spec, mono_now_ns() + 20 * kMs).ok());
  for (int i = 0; i < 300 && !w.done(); ++i) {
    if (auto r = w.next_interval(100 * kMs)) out.total.merge(r->snapshot.total());
  }
  if (!w.done()) {
    ADD_FAILURE() << "the run did not end in 30 s";
    w.stop(0);
  }
  w.wait_done();
  out.total.merge(w.final_snapshot().snapshot.total());
  server.stop();
  for (auto& t : read_truth(truth))
    if (t["path"] == "/v1/chat/completions") out.truth.push_back(t);
  std::sort(out.truth.begin(), out.truth.end(), [](const auto& a, const auto& b) {
    return a["received_ns"].template get<int64_t>() < b["received_ns"].template get<int64_t>();
  });
  std::remove(truth.c_str());
  return out;
}

Scenario live_scenario(int64_t concurrency, int64_t requests) {
  Scenario s = make_scenario("", concurrency, requests);
  s.prompts.kind = PromptSourceKind::kConversations;
  s.prompts.history = History::kLive;
  s.prompts.sticky = true;
  return s;
}

nlohmann::json messages(const nlohmann::json& truth_line) {
  return nlohmann::json::parse(truth_line["body"].get<std::string>())["messages"];
}

// Turn (0-based) of a request: its body holds 2 * turn + 1 messages (no system prompt here).
size_t turn_of(const nlohmann::json& truth_line) {
  return (messages(truth_line).size() - 1) / 2;
}

// The truth lines per connection, each in the order received.
std::map<std::string, std::vector<nlohmann::json>> by_connection(const Outcome& o) {
  std::map<std::string, std::vector<nlohmann::json>> out;
  for (const auto& t : o.truth) out[t["conn"].get<std::string>()].push_back(t);
  return out;
}

TEST(ConversationLive, EachTurnCarriesTheAnswersTheMockStreamedOnOneConnection) {
  mock::MockOptions mo;
  mo.ttft_ns = 5 * kMs;
  mo.itl_ns = 1 * kMs;
  Scenario s = live_scenario(4, 36);
  s.load.think_time = Distribution::uniform(0, 30 * kMs);  // users wake in a shuffled order
  const Outcome o = run_conversations(mo, s, conversations(5, 3, 6));
  ASSERT_EQ(o.total.counters.ok, 36) << error_summary(o.total.counters);
  ASSERT_EQ(o.truth.size(), 36u);

  const auto conns = by_connection(o);
  EXPECT_LE(conns.size(), 4u) << "a connection per user at most";
  int checked = 0, first_turns = 0;
  for (const auto& [conn, lines] : conns) {
    for (size_t i = 0; i < lines.size(); ++i) {
      const size_t turn = turn_of(lines[i]);
      if (turn == 0) {
        ++first_turns;
        continue;
      }
      // Sticky: the turn before it came on this connection, just before it.
      ASSERT_GT(i, 0u) << conn << ": turn " << turn << " is the connection's first request";
      const auto& prev = lines[i - 1];
      ASSERT_EQ(turn_of(prev), turn - 1) << conn << " line " << i;
      const nlohmann::json m = messages(lines[i]);
      const nlohmann::json pm = messages(prev);
      // The history is the previous request's messages, then the answer it got, verbatim.
      for (size_t k = 0; k < pm.size(); ++k) EXPECT_EQ(m[k], pm[k]) << conn << " line " << i;
      EXPECT_EQ(m[2 * turn - 1]["role"], "assistant");
      EXPECT_EQ(m[2 * turn - 1]["content"], prev["text"]) << conn << " line " << i;
      EXPECT_FALSE(prev["text"].get<std::string>().empty());
      EXPECT_NE(m[2 * turn]["content"].get<std::string>().find("question " + std::to_string(turn)),
                std::string::npos);
      ++checked;
    }
  }
  // Every later turn was checked (the budget may end some conversations part-way).
  EXPECT_EQ(checked + first_turns, 36);
  EXPECT_GE(checked, 20);
}

TEST(ConversationLive, RepliesPastTheBoundAreCutAndTheOldestTurnsLeave) {
  mock::MockOptions mo;
  mo.ttft_ns = 2 * kMs;
  mo.itl_ns = 0;
  Scenario s = live_scenario(1, 4);
  s.prompts.history_max_bytes = 1024;
  // ~250 words of 3 to 9 bytes: every answer is longer than the bound.
  const Outcome o = run_conversations(mo, s, conversations(1, 4, 250));
  ASSERT_EQ(o.total.counters.ok, 4) << error_summary(o.total.counters);
  ASSERT_EQ(o.truth.size(), 4u);
  EXPECT_EQ(messages(o.truth[0]).size(), 1u);
  for (size_t t = 1; t < 4; ++t) {
    // Only the previous turn is left, its reply cut to the bound (at a word: ASCII text).
    const nlohmann::json m = messages(o.truth[t]);
    ASSERT_EQ(m.size(), 3u) << m.dump();
    EXPECT_NE(m[0]["content"].get<std::string>().find("question " + std::to_string(t - 1)),
              std::string::npos);
    const std::string full = o.truth[t - 1]["text"].get<std::string>();
    ASSERT_GT(full.size(), 1024u);
    EXPECT_EQ(m[1]["content"].get<std::string>(), full.substr(0, 1024));
  }
}

TEST(ConversationLive, RateModeSendsASessionsNextTurnAfterItsEndPlusThinkTime) {
  mock::MockOptions mo;
  mo.ttft_ns = 30 * kMs;
  mo.itl_ns = 2 * kMs;
  Scenario s = live_scenario(0, 15);
  s.load.mode = LoadMode::kRate;
  s.load.rate = 40;  // a new session every 25 ms: far less than one turn takes
  s.load.think_time = Distribution::fixed(40 * kMs);
  const Outcome o = run_conversations(mo, s, conversations(3, 3, 8));
  ASSERT_EQ(o.total.counters.ok, 15) << error_summary(o.total.counters);
  ASSERT_EQ(o.truth.size(), 15u);
  int follow_ups = 0;
  for (const auto& [conn, lines] : by_connection(o)) {
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t turn = turn_of(lines[i]);
      if (turn == 0) continue;
      ASSERT_EQ(turn_of(lines[i - 1]), turn - 1) << conn;
      EXPECT_EQ(messages(lines[i])[2 * turn - 1]["content"], lines[i - 1]["text"]);
      // Received after the previous turn's last byte left the mock, plus the think time.
      EXPECT_GE(lines[i]["received_ns"].get<int64_t>(),
                lines[i - 1]["last_byte_ns"].get<int64_t>() + 40 * kMs)
          << conn << " turn " << turn;
      ++follow_ups;
    }
  }
  // Sessions overlap (one starts every 25 ms), so the budget ends some of them early.
  EXPECT_GE(follow_ups, 4);
}

}  // namespace
}  // namespace llmload
