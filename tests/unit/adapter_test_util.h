// Replays a response body through the right parser and an adapter, recording the classification
// of every chunk, and checks that splitting the input at every byte boundary changes nothing.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/stream_test_util.h"
#include "worker/api_adapter.h"
#include "worker/ndjson_parser.h"
#include "worker/sse_parser.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload::testutil {

struct Replay {
  std::vector<ChunkKind> kinds;
  std::vector<int32_t> tokens;
  std::vector<bool> finals;
  std::vector<bool> usage;
  std::vector<ClassifyStatus> statuses;
  std::vector<std::string> ids;
  std::vector<std::string> errors;
  ServerTimings timings;  // from the last chunk that had any
  bool has_timings = false;
  StreamState state;
  ParseStatus parse = ParseStatus::ok;

  // Index of the chunk that sets ttft (first token-bearing) / ttfo (first content); -1: none.
  int ttft_index() const {
    for (size_t i = 0; i < kinds.size(); ++i)
      if (is_token_bearing(kinds[i])) return int(i);
    return -1;
  }
  int ttfo_index() const {
    for (size_t i = 0; i < kinds.size(); ++i)
      if (is_output_content(kinds[i])) return int(i);
    return -1;
  }
  bool same_as(const Replay& o) const {
    return kinds == o.kinds && tokens == o.tokens && finals == o.finals && usage == o.usage &&
           statuses == o.statuses && ids == o.ids && errors == o.errors &&
           state.counted_tokens == o.state.counted_tokens &&
           state.usage_completion_tokens == o.state.usage_completion_tokens &&
           state.usage_prompt_tokens == o.state.usage_prompt_tokens &&
           state.final_seen == o.state.final_seen && parse == o.parse;
  }
};

class ReplaySink : public SseParser::Sink, public NdjsonParser::Sink {
 public:
  ReplaySink(const ApiAdapter& a, Replay& r) : adapter_(a), r_(r) {}
  bool on_event(std::string_view event, std::string_view data) override {
    return take(event, data);
  }
  bool on_line(std::string_view line) override { return take({}, line); }

 private:
  bool take(std::string_view event, std::string_view data) {
    ChunkInfo info;
    const ClassifyStatus st = adapter_.classify(event, data, r_.state, info);
    r_.statuses.push_back(st);
    r_.kinds.push_back(info.kind);
    r_.tokens.push_back(info.tokens);
    r_.finals.push_back(info.final);
    r_.usage.push_back(info.has_usage);
    r_.ids.emplace_back(info.id);
    r_.errors.emplace_back(info.error_message);
    if (info.has_timings) {
      r_.has_timings = true;
      r_.timings = info.timings;
    }
    return true;
  }
  const ApiAdapter& adapter_;
  Replay& r_;
};

// `state` is the stream state the first chunk sees (a fresh one unless a test reuses one).
template <class Feeder>
Replay replay_with(const ApiAdapter& adapter, Feeder&& feed_all, const StreamState& state = {}) {
  Replay r;
  r.state = state;
  ReplaySink sink(adapter, r);
  if (adapter.framing() == Framing::json_body) {
    // One JSON body, classified whole when it ends (as StreamDecoder does).
    std::string whole;
    feed_all([&](std::string_view piece) { whole.append(piece); });
    sink.on_line(whole);
  } else if (adapter.framing() == Framing::ndjson) {
    NdjsonParser parser;
    feed_all([&](std::string_view piece) {
      if (r.parse == ParseStatus::ok) r.parse = parser.feed(piece, sink);
    });
    if (r.parse == ParseStatus::ok) r.parse = parser.finish(sink);
  } else {
    SseParser parser;
    feed_all([&](std::string_view piece) {
      if (r.parse == ParseStatus::ok) r.parse = parser.feed(piece, sink);
    });
  }
  return r;
}

// The body fed whole, then split at every byte boundary and one byte at a time: all must agree.
inline Replay replay(const ApiAdapter& adapter, std::string_view body) {
  const Replay whole = replay_with(adapter, [&](auto feed) { feed(body); });
  for_each_split(body, [&](const auto& feed_all) {
    const Replay r = replay_with(adapter, [&](auto feed) { feed_all(feed); });
    EXPECT_TRUE(r.same_as(whole)) << "split replay differs from whole-body replay";
  });
  return whole;
}

inline std::unique_ptr<ApiAdapter> adapter(std::string_view name) {
  auto a = make_adapter(name);
  if (!a.ok()) throw std::runtime_error(a.error());
  return std::move(a.value());
}

inline std::vector<std::string> kind_names(const std::vector<ChunkKind>& kinds) {
  std::vector<std::string> out;
  for (ChunkKind k : kinds) out.emplace_back(to_string(k));
  return out;
}

}  // namespace llmload::testutil
