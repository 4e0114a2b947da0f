// The JSON decision of issue 14 (point 5): simdjson's On-Demand API against worker/json_scan.cpp
// on the captured llama.cpp streams (tests/data/captures). Per SSE event, both sides extract what
// the openai adapters extract (worker/adapters/openai.cpp): id, usage, llama.cpp timings, error,
// object, choices[0] and, in it, delta.{content, reasoning_content, reasoning, tool_calls, role,
// refusal} or text; then the same settle() counts the tokens. Before timing, every event's result
// is compared between the two (a mismatch fails the benchmark). Reports ns per event.
//   json_scan:             the openai adapter's classify(), as the worker runs it.
//   simdjson:              On-Demand reading only what it needs (skipped scalars unchecked); the
//                          event already sits in a buffer with SIMDJSON_PADDING spare bytes after
//                          it (the SSE parser's event buffer reserved with the padding).
//   simdjson_strict:       the same, reading every value, so malformed text is refused as
//                          json_scan refuses it (the like-for-like comparison).
//   simdjson_strict_copy:  strict, the event copied into a padded buffer first (the SSE parser's
//                          buffer as it is today, without the padding).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "worker/adapters/adapter_util.h"
#include "worker/api_adapter.h"
#include "worker/http_response.h"
#include "worker/sse_parser.h"

using namespace llmload::worker;  // NOLINT: the benches name the types they measure

namespace llmload {
namespace {

namespace od = simdjson::ondemand;

// A captured response's SSE data payloads, each in its own buffer with simdjson's padding.
struct Events : ResponseSink, SseParser::Sink {
  std::string body;
  std::vector<simdjson::padded_string> data;
  bool on_head(const ResponseHead&) override { return true; }
  bool on_body(const char* p, size_t n) override {
    body.append(p, n);
    return true;
  }
  bool on_event(std::string_view, std::string_view d) override {
    data.emplace_back(d);
    return true;
  }
};

Events load_capture(const char* name) {
  std::ifstream in(std::string(LLMLOAD_CAPTURES_DIR) + "/" + name + ".response", std::ios::binary);
  std::ostringstream raw;
  raw << in.rdbuf();
  Events ev;
  HttpResponseParser http(&ev);
  size_t used = 0;
  const std::string bytes = raw.str();
  if (http.feed(bytes.data(), bytes.size(), &used) != HttpParseStatus::kComplete) return {};
  SseParser sse;
  sse.feed(ev.body, ev);
  return ev;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' ||
                        s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A value's raw token without the whitespace On-Demand keeps after it.
std::string_view token(od::value& v) { return trim_ws(v.raw_json_token()); }

// simdjson On-Demand in the openai adapter's place. On-Demand checks the document's structure
// and UTF-8 (stage 1) but not the scalars it skips: `"created":12x3`, `tru` or a bad escape in a
// string pass unread. strict reads every value once (numbers, literals, strings with their
// escapes), so malformed text is refused as json_scan refuses it; it is the like-for-like mode.
class SimdClassifier {
 public:
  explicit SimdClassifier(bool strict) : strict_(strict) {}

  // classify_openai: one pass over the members. `p` must have SIMDJSON_PADDING readable bytes
  // after its `n` (`capacity` counts them). An error payload only sets the kind here (its message
  // is the rare path, unchanged by the choice of parser).
  bool classify(const char* p, size_t n, size_t capacity, bool chat, StreamState& state,
                ChunkInfo& out) {
    out = ChunkInfo{};
    const std::string_view d = trim_ws({p, n});
    if (d == "[DONE]") {
      out.kind = ChunkKind::done;
      out.final = true;
      adapters::settle(state, out);
      return true;
    }
    if (d.empty() || d.front() != '{') return false;
    od::document doc;
    od::object top;
    if (parser_.iterate(d.data(), d.size(), capacity - size_t(d.data() - p)).get(doc) ||
        doc.get_object().get(top))
      return false;
    out.kind = ChunkKind::other;
    bool error = false;
    for (auto field : top) {
      od::field f;
      if (std::move(field).get(f)) return false;
      const od::raw_json_string k = f.key();
      od::value v = f.value();
      if (k.unsafe_is_equal("choices")) {
        if (!choices(v, chat, out)) return false;
      } else if (k.unsafe_is_equal("usage")) {
        if (!usage(v, out)) return false;
      } else if (k.unsafe_is_equal("timings")) {
        if (!timings(v, out)) return false;
      } else if (k.unsafe_is_equal("id")) {
        const std::string_view t = token(v);
        if (t.size() >= 2 && t.front() == '"') out.id = t.substr(1, t.size() - 2);
        if (!valid(v)) return false;
      } else if (k.unsafe_is_equal("error")) {
        od::json_type t;
        error = error || (!v.type().get(t) && t != od::json_type::null);
        if (!valid(v)) return false;
      } else if (k.unsafe_is_equal("object")) {
        error = error || token(v) == "\"error\"";
        if (!valid(v)) return false;
      } else if (!valid(v)) {
        return false;
      }
    }
    if (error) {
      out = ChunkInfo{};
      out.kind = ChunkKind::error;
      return true;
    }
    if ((out.kind == ChunkKind::empty || out.kind == ChunkKind::other) && out.has_usage)
      out.kind = ChunkKind::usage_only;
    adapters::settle(state, out);
    return true;
  }

 private:
  // In strict mode, reads the value whole (its checks are simdjson's own); else skips it.
  bool valid(od::value& v) {
    if (!strict_) return true;
    od::json_type t;
    if (v.type().get(t)) return false;
    switch (t) {
      case od::json_type::object: {
        od::object o;
        if (v.get_object().get(o)) return false;
        for (auto field : o) {
          od::field f;
          if (std::move(field).get(f) || !valid(f.value())) return false;
        }
        return true;
      }
      case od::json_type::array: {
        od::array a;
        if (v.get_array().get(a)) return false;
        for (auto el : a) {
          od::value e;
          if (std::move(el).get(e) || !valid(e)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        return !v.get_string().get(s);
      }
      case od::json_type::number: {
        od::number x;
        return !v.get_number().get(x);
      }
      case od::json_type::boolean: {
        bool b;
        return !v.get_bool().get(b);
      }
      case od::json_type::null: {
        bool null = false;
        return !v.is_null().get(null) && null;
      }
    }
    return false;
  }

  // A string with at least one character, checked as valid() would (strict mode).
  bool nonempty_string(od::value& v) {
    od::json_type t;
    if (v.type().get(t) || t != od::json_type::string) return false;
    return token(v).size() > 2;
  }

  // choices[0] decides the kind; the other elements are only checked (strict mode).
  bool choices(od::value& v, bool chat, ChunkInfo& out) {
    od::array a;
    if (v.get_array().get(a)) return valid(v);
    bool first = true;
    for (auto el : a) {
      od::value e;
      if (std::move(el).get(e)) return false;
      if (!first) {
        if (!valid(e)) return false;
        continue;
      }
      first = false;
      od::object c0;
      if (e.get_object().get(c0) || !choice(c0, chat, out)) return false;
    }
    return true;
  }

  // choices[0].delta / message (chat) or choices[0].text (completions), as classify_chat_choice
  // and classify_text_choice decide.
  bool choice(od::object& c, bool chat, ChunkInfo& out) {
    out.kind = ChunkKind::empty;
    for (auto field : c) {
      od::field f;
      if (std::move(field).get(f)) return false;
      od::value v = f.value();
      if (!chat && f.key().unsafe_is_equal("text")) {
        out.kind = nonempty_string(v) ? ChunkKind::content : ChunkKind::empty;
        if (!valid(v)) return false;
        continue;
      }
      const bool delta = chat && f.key().unsafe_is_equal("delta");
      od::object src;
      if ((!delta && !(chat && f.key().unsafe_is_equal("message"))) || v.get_object().get(src)) {
        if (!valid(v)) return false;
        continue;
      }
      if (!delta) out.final = true;
      if (!message(src, out)) return false;
    }
    return true;
  }

  bool message(od::object& src, ChunkInfo& out) {
    bool tools = false, content = false, reasoning = false, role = false;
    for (auto m : src) {
      od::field mf;
      if (std::move(m).get(mf)) return false;
      const od::raw_json_string k = mf.key();
      od::value mv = mf.value();
      if (k.unsafe_is_equal("tool_calls")) {
        od::json_type t;
        tools = !mv.type().get(t) && t == od::json_type::array && token(mv) != "[]";
      } else if (k.unsafe_is_equal("content") || k.unsafe_is_equal("refusal")) {
        content = content || nonempty_string(mv);
      } else if (k.unsafe_is_equal("reasoning_content") || k.unsafe_is_equal("reasoning")) {
        reasoning = reasoning || nonempty_string(mv);
      } else if (k.unsafe_is_equal("role")) {
        od::json_type t;
        role = !mv.type().get(t) && t == od::json_type::string;
      }
      if (!valid(mv)) return false;
    }
    out.kind = tools       ? ChunkKind::tool_call
               : content   ? ChunkKind::content
               : reasoning ? ChunkKind::reasoning
               : role      ? ChunkKind::role_only
                           : ChunkKind::empty;
    return true;
  }

  bool usage(od::value& v, ChunkInfo& out) {
    od::object o;
    if (v.get_object().get(o)) return valid(v);  // null or absent usage
    for (auto field : o) {
      od::field f;
      if (std::move(field).get(f)) return false;
      od::value x = f.value();
      if (f.key().unsafe_is_equal("prompt_tokens")) {
        if (x.get_int64().get(out.prompt_tokens)) return false;
      } else if (f.key().unsafe_is_equal("completion_tokens")) {
        if (x.get_int64().get(out.completion_tokens)) return false;
      } else if (!valid(x)) {
        return false;
      }
    }
    out.has_usage = out.prompt_tokens >= 0 || out.completion_tokens >= 0;
    return true;
  }

  bool timings(od::value& v, ChunkInfo& out) {
    od::object o;
    if (v.get_object().get(o)) return valid(v);
    ServerTimings& t = out.timings;
    for (auto field : o) {
      od::field f;
      if (std::move(field).get(f)) return false;
      od::value x = f.value();
      const od::raw_json_string k = f.key();
      double d;
      int64_t i;
      if (k.unsafe_is_equal("prompt_ms") && !x.get_double().get(d)) {
        t.prompt_ms = d;
      } else if (k.unsafe_is_equal("predicted_ms") && !x.get_double().get(d)) {
        t.predicted_ms = d;
      } else if (k.unsafe_is_equal("prompt_n") && !x.get_int64().get(i)) {
        t.prompt_n = i;
      } else if (k.unsafe_is_equal("predicted_n") && !x.get_int64().get(i)) {
        t.predicted_n = i;
      } else if (!valid(x)) {
        return false;
      }
    }
    out.has_timings = t.prompt_ms || t.predicted_ms || t.prompt_n || t.predicted_n;
    return true;
  }

  od::parser parser_;
  bool strict_;
};

bool same(const ChunkInfo& a, const ChunkInfo& b) {
  return a.kind == b.kind && a.tokens == b.tokens && a.has_usage == b.has_usage &&
         a.prompt_tokens == b.prompt_tokens && a.completion_tokens == b.completion_tokens &&
         a.final == b.final && a.id == b.id && a.has_timings == b.has_timings &&
         a.timings.prompt_ms == b.timings.prompt_ms &&
         a.timings.predicted_ms == b.timings.predicted_ms &&
         a.timings.prompt_n == b.timings.prompt_n && a.timings.predicted_n == b.timings.predicted_n;
}

enum class Parser { json_scan, simdjson, simdjson_strict, simdjson_strict_copy };

// Malformed in a member the adapter does not use: json_scan refuses each, and so must strict.
const char* const kMalformed[] = {
    R"({"choices":[{"delta":{"content":" x"}}],"created":12x3,"id":"a"})",
    R"({"choices":[{"delta":{"content":" x"}}],"created":tru,"id":"a"})",
    R"({"choices":[{"delta":{"content":" x"},"logprobs":[1,]}],"id":"a"})",
    R"({"choices":[{"delta":{"content":" x\q"}}],"id":"a"})",
};

// Before timing: the parsers agree on every event of the capture, and strict refuses what
// json_scan refuses.
std::string check_agreement(const Events& ev, const ApiAdapter& adapter, bool chat, bool strict) {
  SimdClassifier simd(strict);
  StreamState s1, s2;
  ChunkInfo a, b;
  for (const auto& e : ev.data) {
    const std::string_view d(e.data(), e.size());
    if (adapter.classify({}, d, s1, a) != ClassifyStatus::ok ||
        !simd.classify(e.data(), e.size(), e.size() + simdjson::SIMDJSON_PADDING, chat, s2, b) ||
        !same(a, b))
      return "the parsers disagree on: " + std::string(d);
  }
  if (!strict) return {};
  for (const char* m : kMalformed) {
    const simdjson::padded_string bad{std::string_view(m)};
    if (adapter.classify({}, m, s1, a) == ClassifyStatus::ok ||
        simd.classify(bad.data(), bad.size(), bad.size() + simdjson::SIMDJSON_PADDING, chat, s2, b))
      return std::string("not refused by both: ") + m;
  }
  return {};
}

void BM_Classify(benchmark::State& st, const char* capture, const char* api, Parser which) {
  const Events ev = load_capture(capture);
  if (ev.data.empty()) return st.SkipWithError("capture not found or not a complete response");
  auto adapter = std::move(make_adapter(api).value());
  const bool chat = std::string_view(api) == "openai-chat";
  const bool strict = which != Parser::simdjson;
  if (const std::string why = check_agreement(ev, *adapter, chat, strict); !why.empty())
    return st.SkipWithError(why.c_str());
  SimdClassifier simd(strict);
  size_t longest = 0;
  for (const auto& e : ev.data) longest = std::max(longest, e.size());
  std::vector<char> copy(longest + simdjson::SIMDJSON_PADDING);
  ChunkInfo info;
  int64_t tokens = 0;
  for (auto _ : st) {
    StreamState state;
    for (const auto& e : ev.data) {
      switch (which) {
        case Parser::json_scan:
          adapter->classify({}, std::string_view(e.data(), e.size()), state, info);
          break;
        case Parser::simdjson:
        case Parser::simdjson_strict:
          simd.classify(e.data(), e.size(), e.size() + simdjson::SIMDJSON_PADDING, chat, state,
                        info);
          break;
        case Parser::simdjson_strict_copy:
          std::memcpy(copy.data(), e.data(), e.size());
          simd.classify(copy.data(), e.size(), copy.size(), chat, state, info);
          break;
      }
    }
    tokens += state.counted_tokens;
  }
  benchmark::DoNotOptimize(tokens);
  st.SetItemsProcessed(int64_t(st.iterations() * ev.data.size()));
  st.counters["events"] = double(ev.data.size());
  st.counters["ns_per_event"] = benchmark::Counter(
      double(st.iterations() * ev.data.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

#define CLASSIFY_BENCHES(name, capture, api)                                                 \
  BENCHMARK_CAPTURE(BM_Classify, name##_json_scan, capture, api, Parser::json_scan);         \
  BENCHMARK_CAPTURE(BM_Classify, name##_simdjson, capture, api, Parser::simdjson);           \
  BENCHMARK_CAPTURE(BM_Classify, name##_simdjson_strict, capture, api,                       \
                    Parser::simdjson_strict);                                                \
  BENCHMARK_CAPTURE(BM_Classify, name##_simdjson_strict_copy, capture, api,                  \
                    Parser::simdjson_strict_copy)

CLASSIFY_BENCHES(chat_usage, "chat-stream-usage", "openai-chat");
CLASSIFY_BENCHES(chat_eos, "chat-stream-eos", "openai-chat");
CLASSIFY_BENCHES(completions, "completions-stream", "openai-completions");

}  // namespace
}  // namespace llmload
