#include "common/wire.h"

#include <array>
#include <cmath>
#include <utility>

namespace llmload::wire {

namespace {

constexpr std::array<std::string_view, 11> kTypeNames = {
    "HELLO", "WELCOME", "REJECT", "PING", "PONG", "RUN", "REPORT", "DONE", "STOP", "BYE", "GO"};

using json = nlohmann::json;

// Thrown only inside decode() and caught there: a field at fault.
struct FieldError {
  std::string message;
};

[[noreturn]] void fail(const std::string& field, const std::string& what) {
  throw FieldError{field + ": " + what};
}

std::string join(const std::string& ctx, std::string_view key) {
  return ctx.empty() ? std::string(key) : ctx + "." + std::string(key);
}

const json& need(const json& obj, const std::string& ctx, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(join(ctx, key), "missing");
  return *it;
}

int64_t as_i64(const json& v, const std::string& field, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) fail(field, "not an integer");
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) fail(field, "out of range");
    x = static_cast<int64_t>(v.get<uint64_t>());
  } else {
    x = v.get<int64_t>();
  }
  if (x < lo || x > hi) {
    fail(field, "out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return x;
}

int64_t get_i64(const json& obj, const std::string& ctx, std::string_view key, int64_t lo,
                int64_t hi) {
  return as_i64(need(obj, ctx, key), join(ctx, key), lo, hi);
}

std::string as_str(const json& v, const std::string& field, std::size_t max_bytes) {
  if (!v.is_string()) fail(field, "not a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max_bytes) fail(field, "longer than " + std::to_string(max_bytes) + " bytes");
  return s;
}

std::string get_str(const json& obj, const std::string& ctx, std::string_view key,
                    std::size_t max_bytes) {
  return as_str(need(obj, ctx, key), join(ctx, key), max_bytes);
}

bool get_bool(const json& obj, const std::string& ctx, std::string_view key) {
  const json& v = need(obj, ctx, key);
  if (!v.is_boolean()) fail(join(ctx, key), "not a boolean");
  return v.get<bool>();
}

const json& get_array(const json& obj, const std::string& ctx, std::string_view key,
                      std::size_t max_items) {
  const json& v = need(obj, ctx, key);
  if (!v.is_array()) fail(join(ctx, key), "not an array");
  if (v.size() > max_items) {
    fail(join(ctx, key), "more than " + std::to_string(max_items) + " entries");
  }
  return v;
}

std::optional<int64_t> get_opt_i64(const json& obj, const std::string& ctx, std::string_view key,
                                   int64_t lo, int64_t hi) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  return as_i64(*it, join(ctx, key), lo, hi);
}

constexpr int64_t kMaxI64 = INT64_MAX;

json hello_body(const Hello& m) {
  return {{"protocol", m.protocol},
          {"worker_id", m.worker_id},
          {"host", m.host},
          {"threads", m.threads},
          {"version", m.version}};
}

Hello decode_hello(const json& j, const DecodeLimits& lim) {
  Hello m;
  m.protocol = get_i64(j, "", "protocol", 0, kMaxI64);
  // A peer of another version is answered with a clear REJECT: read what we can and stop.
  auto opt_str = [&](std::string_view key) -> std::string {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().size() > 128)
      return {};
    return it->get<std::string>();
  };
  if (m.protocol != kProtocolVersion) {
    m.worker_id = opt_str("worker_id");
    m.host = opt_str("host");
    m.version = opt_str("version");
    return m;
  }
  m.worker_id = get_str(j, "", "worker_id", 128);
  if (m.worker_id.empty()) fail("worker_id", "empty");
  m.host = get_str(j, "", "host", 256);
  m.threads = get_i64(j, "", "threads", 1, 4096);
  m.version = get_str(j, "", "version", 64);
  (void)lim;
  return m;
}

json preflight_to_json(const Preflight& p) {
  json failures = json::array();
  for (const auto& f : p.failures)
    failures.push_back({{"target", f.target}, {"message", f.message}});
  return {{"ok", p.ok}, {"failures", failures}, {"warnings", p.warnings}};
}

Preflight preflight_from_json(const json& j, const DecodeLimits& lim) {
  const std::string ctx = "preflight";
  if (!j.is_object()) fail(ctx, "not a map");
  Preflight p;
  p.ok = get_bool(j, ctx, "ok");
  const json& failures = get_array(j, ctx, "failures", 1024);
  for (std::size_t i = 0; i < failures.size(); ++i) {
    std::string fctx = ctx + ".failures[" + std::to_string(i) + "]";
    if (!failures[i].is_object()) fail(fctx, "not a map");
    p.failures.push_back(
        {get_str(failures[i], fctx, "target", 1024), get_str(failures[i], fctx, "message", 4096)});
  }
  const json& warnings = get_array(j, ctx, "warnings", 1024);
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    p.warnings.push_back(as_str(warnings[i], ctx + ".warnings[" + std::to_string(i) + "]", 4096));
  }
  if (p.ok != p.failures.empty()) fail(ctx + ".ok", "disagrees with failures");
  (void)lim;
  return p;
}

}  // namespace

std::string_view type_name(MsgType t) {
  return kTypeNames[static_cast<std::size_t>(t)];
}

std::optional<MsgType> parse_type(std::string_view frame) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == frame) return static_cast<MsgType>(i);
  }
  return std::nullopt;
}

MsgType type_of(const Message& m) {
  return static_cast<MsgType>(m.index());
}

// --- prompts and request rows --------------------------------------------------------------

json prompt_to_json(const ResolvedPrompt& p) {
  json j = {{"index", p.index},
            {"source_index", p.source_index},
            {"input_tokens_estimate", p.input_tokens_estimate}};
  if (!p.text.empty()) j["text"] = p.text;
  if (!p.messages.empty()) {
    json msgs = json::array();
    for (const auto& m : p.messages) msgs.push_back({m.role, m.content});
    j["messages"] = std::move(msgs);
  }
  if (!p.turns.empty()) {
    json turns = json::array();
    for (const auto& t : p.turns) turns.push_back({t.user, t.recorded_reply});
    j["turns"] = std::move(turns);
  }
  if (!p.system.empty()) j["system"] = p.system;
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (!p.labels.empty()) j["labels"] = p.labels;
  return j;
}

Expected<ResolvedPrompt> prompt_from_json(const json& j, std::size_t max_string_bytes) {
  try {
    if (!j.is_object()) fail("prompt", "not a map");
    ResolvedPrompt p;
    const std::string ctx = "prompt";
    p.index = get_i64(j, ctx, "index", 0, kMaxI64);
    p.source_index = get_i64(j, ctx, "source_index", 0, kMaxI64);
    p.input_tokens_estimate = get_i64(j, ctx, "input_tokens_estimate", 0, kMaxI64);
    if (j.contains("text")) p.text = get_str(j, ctx, "text", max_string_bytes);
    if (j.contains("system")) p.system = get_str(j, ctx, "system", max_string_bytes);
    p.max_tokens = get_opt_i64(j, ctx, "max_tokens", 0, 100'000'000);
    auto pairs = [&](std::string_view key, auto&& add) {
      if (!j.contains(key)) return;
      const json& arr = get_array(j, ctx, key, 100'000);
      for (std::size_t i = 0; i < arr.size(); ++i) {
        std::string f = join(ctx, key) + "[" + std::to_string(i) + "]";
        if (!arr[i].is_array() || arr[i].size() != 2) fail(f, "not a pair");
        add(as_str(arr[i][0], f, max_string_bytes), as_str(arr[i][1], f, max_string_bytes));
      }
    };
    pairs("messages", [&](std::string a, std::string b) {
      p.messages.push_back(llmload::Message{std::move(a), std::move(b)});
    });
    pairs("turns", [&](std::string a, std::string b) {
      p.turns.push_back(Turn{std::move(a), std::move(b)});
    });
    if (j.contains("labels")) {
      const json& l = j["labels"];
      const std::string f = join(ctx, "labels");
      if (!l.is_object()) fail(f, "not a map");
      if (l.size() > kRowLabelsMax) fail(f, "more than " + std::to_string(kRowLabelsMax) + " labels");
      for (const auto& [k, v] : l.items()) p.labels[k] = as_str(v, f + "." + std::string(utf8_prefix(k, 64)), kRowLabelValueMax);
      if (auto why = row_labels_problem(p.labels)) fail(f, *why);
    }
    return p;
  } catch (const FieldError& e) {
    return Error{e.message};
  }
}

// A row is 17 fields, then the server's 8 figures (null when it reported none), then
// input_tokens and error_message: 27. Rows of 17 (no server figures) and 25 (no input tokens or
// message) are read too.
constexpr std::size_t kRowFields = 17;
constexpr std::size_t kRowServerFields = 8;
constexpr std::size_t kRowAllFields = kRowFields + kRowServerFields + 2;

std::array<std::optional<int64_t> ServerFigures::*, kRowServerFields> row_server_fields() {
  return {&ServerFigures::load_us,        &ServerFigures::prompt_tokens,
          &ServerFigures::prompt_eval_us, &ServerFigures::output_tokens,
          &ServerFigures::eval_us,        &ServerFigures::total_us,
          &ServerFigures::cached_tokens,  &ServerFigures::wait_us};
}

json request_row_to_json(const RequestRow& r) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  json row = json::array({r.request_id, r.worker, r.group, r.prompt, r.start_us, opt(r.connect_us),
                          opt(r.tls_us), opt(r.ttfb_us), opt(r.ttft_us), opt(r.ttfo_us),
                          opt(r.e2e_us), r.output_tokens, std::string(name(r.tokens_source)),
                          std::string(request_outcome(r)), opt(r.wait_us), opt(r.sent_unix_ns),
                          opt(r.queue_us)});
  for (auto field : row_server_fields()) row.push_back(opt(r.server.*field));
  row.push_back(opt(r.input_tokens));
  row.push_back(r.error_message);
  return row;
}

Expected<RequestRow> request_row_from_json(const json& j, std::size_t max_string_bytes) {
  try {
    const std::string ctx = "request";
    if (!j.is_array() || (j.size() != kRowFields && j.size() != kRowFields + kRowServerFields &&
                          j.size() != kRowAllFields))
      fail(ctx, "not an array of 17, 25 or 27 fields");
    RequestRow r;
    r.request_id = as_str(j[0], ctx + ".request_id", std::min<std::size_t>(max_string_bytes, 1024));
    r.worker = as_str(j[1], ctx + ".worker", 1024);
    r.group = as_str(j[2], ctx + ".group", 64 * 1024);
    r.prompt = as_i64(j[3], ctx + ".prompt", -1, kMaxI64);
    r.start_us = as_i64(j[4], ctx + ".start_us", INT64_MIN / 2, kMaxI64);
    auto opt = [&](const json& v, const char* f) -> std::optional<int64_t> {
      if (v.is_null()) return std::nullopt;
      return as_i64(v, ctx + "." + f, 0, kMaxI64);
    };
    r.connect_us = opt(j[5], "connect_us");
    r.tls_us = opt(j[6], "tls_us");
    r.ttfb_us = opt(j[7], "ttfb_us");
    r.ttft_us = opt(j[8], "ttft_us");
    r.ttfo_us = opt(j[9], "ttfo_us");
    r.e2e_us = opt(j[10], "e2e_us");
    r.wait_us = opt(j[14], "wait_us");
    r.sent_unix_ns = opt(j[15], "sent_unix_ns");
    r.queue_us = opt(j[16], "queue_us");
    if (j.size() > kRowFields) {
      std::size_t i = kRowFields;
      for (auto field : row_server_fields()) {
        r.server.*field = opt(j[i], ("server[" + std::to_string(i - kRowFields) + "]").c_str());
        ++i;
      }
    }
    if (j.size() == kRowAllFields) {
      r.input_tokens = opt(j[kRowAllFields - 2], "input_tokens");
      r.error_message = as_str(j[kRowAllFields - 1], ctx + ".error_message", kRowMessageBytes);
    }
    r.output_tokens = as_i64(j[11], ctx + ".output_tokens", 0, kMaxI64);
    std::string src = as_str(j[12], ctx + ".tokens_source", 16);
    if (auto t = parse_tokens_source(src)) {
      r.tokens_source = *t;
    } else {
      fail(ctx + ".tokens_source", "not 'usage', 'counted' or 'tokenizer'");
    }
    std::string outcome = as_str(j[13], ctx + ".outcome", 32);
    if (outcome == "client_cancelled") {
      r.client_cancelled = true;
    } else if (outcome != "ok") {
      auto kind = parse_error_kind(outcome);
      if (!kind) fail(ctx + ".outcome", "unknown error kind");
      r.error = *kind;
    }
    return r;
  } catch (const FieldError& e) {
    return Error{e.message};
  }
}

// --- encode ----------------------------------------------------------------------------------

namespace {

json body_of(const Hello& m) {
  return hello_body(m);
}
json body_of(const Welcome& m) {
  return {{"protocol", m.protocol}, {"coordinator", m.coordinator}};
}
json body_of(const Reject& m) {
  return {{"protocol", m.protocol}, {"reason", m.reason}};
}
json body_of(const Ping& m) {
  return {{"seq", m.seq}, {"sent_ns", m.sent_ns}};
}
json body_of(const Pong& m) {
  return {{"seq", m.seq}, {"ping_sent_ns", m.ping_sent_ns}, {"recv_ns", m.recv_ns}};
}
// RUN's shared files: [{field, path, size, sha256}].
constexpr std::size_t kMaxSharedFiles = 8;

json files_to_json(const std::vector<SharedFile>& files) {
  json out = json::array();
  for (const SharedFile& f : files)
    out.push_back({{"field", f.field}, {"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  return out;
}

std::vector<SharedFile> files_from_json(const json& a) {
  std::vector<SharedFile> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string ctx = "files[" + std::to_string(i) + "]";
    const json& f = a[i];
    if (!f.is_object()) fail(ctx, "not a map");
    SharedFile sf;
    sf.field = get_str(f, ctx, "field", 64);
    if (sf.field != "prompts.file" && sf.field != "load.trace.file" &&
        sf.field != "prompts.tokenizer")
      fail(ctx + ".field", "'" + sf.field +
                               "' is none of prompts.file, load.trace.file, prompts.tokenizer");
    sf.path = get_str(f, ctx, "path", 4096);
    if (sf.path.empty()) fail(ctx + ".path", "empty");
    sf.size = get_i64(f, ctx, "size", 0, kSharedFileMaxBytes);
    sf.sha256 = get_str(f, ctx, "sha256", 64);
    if (sf.sha256.size() != 64 ||
        sf.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      fail(ctx + ".sha256", "not 64 lowercase hex digits");
    out.push_back(std::move(sf));
  }
  return out;
}

json body_of(const Run& m) {
  json prompts = json::array();
  for (const auto& p : m.prompts) prompts.push_back(prompt_to_json(p));
  return {{"run_id", m.run_id},
          {"scenario", m.scenario},
          {"prompts", std::move(prompts)},
          {"files", files_to_json(m.files)},
          {"interval_ns", m.interval_ns},
          {"requests_csv", m.requests_csv}};
}
json body_of(const Report& m) {
  json j = {{"run_id", m.run_id}, {"seq", m.seq}, {"final", m.final}};
  if (m.preflight) j["preflight"] = preflight_to_json(*m.preflight);
  if (m.snapshot) j["snapshot"] = m.snapshot->to_wire();
  if (!m.requests.empty()) {
    json rows = json::array();
    for (const auto& r : m.requests) rows.push_back(request_row_to_json(r));
    j["requests"] = std::move(rows);
  }
  return j;
}
json body_of(const Done& m) {
  return {{"run_id", m.run_id}, {"reports", m.reports}, {"error", m.error}};
}
json body_of(const Stop& m) {
  return {{"run_id", m.run_id}, {"reason", m.reason}, {"grace_ns", m.grace_ns}};
}
json body_of(const Go& m) {
  return {{"run_id", m.run_id}, {"share", m.share.to_json()}, {"start_ns", m.start_ns}};
}
json body_of(const Bye& m) {
  return {{"reason", m.reason}};
}

// --- decode ----------------------------------------------------------------------------------

Message decode_body(MsgType t, const json& j, const DecodeLimits& lim) {
  const std::size_t s = lim.max_string_bytes;
  switch (t) {
    case MsgType::kHello:
      return decode_hello(j, lim);
    case MsgType::kWelcome:
      return Welcome{get_i64(j, "", "protocol", 0, kMaxI64), get_str(j, "", "coordinator", 256)};
    case MsgType::kReject:
      return Reject{get_i64(j, "", "protocol", 0, kMaxI64), get_str(j, "", "reason", 4096)};
    case MsgType::kPing:
      return Ping{get_i64(j, "", "seq", 0, kMaxI64), get_i64(j, "", "sent_ns", INT64_MIN, kMaxI64)};
    case MsgType::kPong:
      return Pong{get_i64(j, "", "seq", 0, kMaxI64),
                  get_i64(j, "", "ping_sent_ns", INT64_MIN, kMaxI64),
                  get_i64(j, "", "recv_ns", INT64_MIN, kMaxI64)};
    case MsgType::kRun: {
      Run m;
      m.run_id = get_str(j, "", "run_id", 256);
      m.scenario = need(j, "", "scenario");
      if (!m.scenario.is_object()) fail("scenario", "not a map");
      const json& prompts = get_array(j, "", "prompts", lim.max_prompts);
      m.prompts.reserve(prompts.size());
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        auto p = prompt_from_json(prompts[i], lim.max_body_bytes);
        if (!p) fail("prompts[" + std::to_string(i) + "]", p.error());
        m.prompts.push_back(std::move(p.value()));
      }
      m.files = files_from_json(get_array(j, "", "files", kMaxSharedFiles));
      m.interval_ns = get_i64(j, "", "interval_ns", 1'000'000, 3'600'000'000'000);
      m.requests_csv = get_bool(j, "", "requests_csv");
      return m;
    }
    case MsgType::kReport: {
      Report m;
      m.run_id = get_str(j, "", "run_id", 256);
      m.seq = get_i64(j, "", "seq", 0, kMaxI64);
      m.final = get_bool(j, "", "final");
      if (auto it = j.find("preflight"); it != j.end()) m.preflight = preflight_from_json(*it, lim);
      if (auto it = j.find("snapshot"); it != j.end()) {
        auto snap = IntervalSnapshot::from_wire(*it, lim.stats);
        if (!snap) fail("snapshot", snap.error());
        m.snapshot = std::move(snap.value());
      }
      if (j.contains("requests")) {
        const json& rows = get_array(j, "", "requests", lim.max_request_rows);
        m.requests.reserve(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
          auto r = request_row_from_json(rows[i], s);
          if (!r) fail("requests[" + std::to_string(i) + "]", r.error());
          m.requests.push_back(std::move(r.value()));
        }
      }
      if (m.seq == 0 && !m.preflight) fail("preflight", "missing from the seq 0 report");
      if (m.seq > 0 && !m.snapshot) fail("snapshot", "missing from an interval report");
      return m;
    }
    case MsgType::kDone:
      return Done{get_str(j, "", "run_id", 256), get_i64(j, "", "reports", 0, kMaxI64),
                  get_str(j, "", "error", 4096)};
    case MsgType::kStop:
      return Stop{get_str(j, "", "run_id", 256), get_str(j, "", "reason", 4096),
                  get_i64(j, "", "grace_ns", 0, kMaxI64)};
    case MsgType::kBye:
      return Bye{get_str(j, "", "reason", 4096)};
    case MsgType::kGo: {
      Go m;
      m.run_id = get_str(j, "", "run_id", 256);
      auto share = LoadShare::from_json(need(j, "", "share"));
      if (!share) fail("share", share.error());
      m.share = std::move(share.value());
      m.start_ns = get_i64(j, "", "start_ns", INT64_MIN, kMaxI64);
      return m;
    }
  }
  fail("type", "unknown");
}

}  // namespace

std::string encode_run_body(const Run& run, nlohmann::json prompts) {
  json body = body_of(run);
  if (!prompts.is_null()) body["prompts"] = std::move(prompts);
  std::string out;
  json::to_msgpack(body, out);
  return out;
}

Frames encode(const Message& m) {
  Frames f;
  f.type = std::string(type_name(type_of(m)));
  json body = std::visit([](const auto& x) { return body_of(x); }, m);
  std::vector<std::uint8_t> bytes = json::to_msgpack(body);
  f.body.assign(bytes.begin(), bytes.end());
  return f;
}

Expected<Message> decode(std::string_view type_frame, std::string_view body,
                         const DecodeLimits& limits) {
  auto t = parse_type(type_frame.substr(0, 16));
  if (!t)
    return Error{"unknown message type (" + std::to_string(type_frame.size()) + "-byte frame)"};
  const std::string tname(type_name(*t));
  if (body.size() > limits.max_body_bytes) {
    return Error{tname + ": body of " + std::to_string(body.size()) +
                 " bytes exceeds the limit of " + std::to_string(limits.max_body_bytes)};
  }
  if (std::string problem = check_msgpack(body, limits.max_depth); !problem.empty()) {
    return Error{tname + ": malformed MessagePack: " + problem};
  }
  json j = json::from_msgpack(body, /*strict=*/true, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{tname + ": malformed MessagePack"};
  if (!j.is_object()) return Error{tname + ": body is not a map"};
  try {
    return decode_body(*t, j, limits);
  } catch (const FieldError& e) {
    return Error{tname + ": " + e.message};
  } catch (const std::exception& e) {
    // nlohmann type errors on unexpected shapes: still a bad message, never a crash.
    return Error{tname + ": " + e.what()};
  }
}

}  // namespace llmload::wire
