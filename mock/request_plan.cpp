#include "mock/request_plan.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/duration.h"
#include "mock/metrics_page.h"
#include "mock/stream_format.h"

namespace llmload::mock {

using nlohmann::json;

namespace {

struct Route {
  const char* path;
  const char* method;
  int kind;  // -1: plain GET, else an Api
};
enum PlainRoute { kHealth = 100, kModels, kTags, kMetrics };
constexpr Route kRoutes[] = {
    {"/v1/chat/completions", "POST", int(Api::kOpenAiChat)},
    {"/v1/completions", "POST", int(Api::kOpenAiCompletions)},
    {"/api/chat", "POST", int(Api::kOllamaChat)},
    {"/api/generate", "POST", int(Api::kOllamaGenerate)},
    {"/v1/messages", "POST", int(Api::kAnthropicMessages)},
    {"/v1/embeddings", "POST", int(Api::kOpenAiEmbeddings)},
    {"/health", "GET", kHealth},
    {"/v1/models", "GET", kModels},
    {"/api/tags", "GET", kTags},
    {"/metrics", "GET", kMetrics},
};

struct BadRequest {
  std::string message;
};

Api api_for_path(std::string_view path) {
  if (path.rfind("/api/", 0) == 0) return Api::kOllamaChat;
  if (path == "/v1/messages") return Api::kAnthropicMessages;
  return Api::kOpenAiChat;
}

bool parse_int(std::string_view s, int64_t lo, int64_t hi, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= lo && out <= hi;
}

int64_t header_int(const HttpRequest& req, const char* name, int64_t lo, int64_t hi, int64_t dflt) {
  const std::string* v = req.header(name);
  if (!v) return dflt;
  int64_t out;
  if (!parse_int(*v, lo, hi, out))
    throw BadRequest{std::string("header ") + name + ": '" + *v + "' is not a whole number from " +
                     std::to_string(lo) + " to " + std::to_string(hi)};
  return out;
}

int64_t header_duration(const HttpRequest& req, const char* name, int64_t dflt) {
  const std::string* v = req.header(name);
  if (!v) return dflt;
  auto d = parse_duration_ns(*v);
  if (!d) throw BadRequest{std::string("header ") + name + ": " + d.error()};
  if (*d < 0 || *d > 3'600'000'000'000)
    throw BadRequest{std::string("header ") + name + ": out of range (0 to 1h)"};
  return *d;
}

double header_share(const HttpRequest& req, const char* name, double dflt) {
  const std::string* v = req.header(name);
  if (!v) return dflt;
  char* end = nullptr;
  const double x = std::strtod(v->c_str(), &end);
  if (v->empty() || end != v->c_str() + v->size() || !(x >= 0 && x <= 1))
    throw BadRequest{std::string("header ") + name + ": '" + *v + "' is not a number from 0 to 1"};
  return x;
}

bool header_bool(const HttpRequest& req, const char* name, bool dflt) {
  const std::string* v = req.header(name);
  if (!v) return dflt;
  if (*v == "1" || *v == "true") return true;
  if (*v == "0" || *v == "false") return false;
  throw BadRequest{std::string("header ") + name + ": '" + *v + "' is not true/false/1/0"};
}

int words_in_content(const json& content) {
  if (content.is_string()) return count_words(content.get_ref<const std::string&>());
  int n = 0;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object() && part.contains("text") && part["text"].is_string())
        n += count_words(part["text"].get_ref<const std::string&>());
      else if (part.is_string())
        n += count_words(part.get_ref<const std::string&>());
    }
  }
  return n;
}

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

int positive_int_field(const json& body, const char* name, int dflt) {
  const json* v = field(body, name);
  if (!v) return dflt;
  if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > 1'000'000)
    throw BadRequest{std::string("'") + name + "' must be an integer from 1 to 1000000"};
  return int(v->get<int64_t>());
}

bool bool_field(const json& body, const char* name, bool dflt) {
  const json* v = field(body, name);
  if (!v) return dflt;
  if (!v->is_boolean()) throw BadRequest{std::string("'") + name + "' must be a boolean"};
  return v->get<bool>();
}

void require_messages(const json& body) {
  const json* m = field(body, "messages");
  if (!m || !m->is_array() || m->empty()) throw BadRequest{"'messages' must be a non-empty array"};
}

std::string rfc3339(int64_t wall_ns) {
  time_t s = time_t(wall_ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                long((wall_ns % 1'000'000'000) / 1000));
  return buf;
}

Reply plain_reply(int kind, const PlanContext& ctx) {
  Reply r;
  std::vector<std::string> names{ctx.options.model};
  for (const auto& m : ctx.options.more_models) {
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  }
  int64_t created = ctx.wall_ns / 1'000'000'000;
  if (kind == kHealth) {
    r.body = "{\"status\":\"ok\"}";
  } else if (kind == kModels) {
    r.body = "{\"object\":\"list\",\"data\":[";
    for (size_t i = 0; i < names.size(); ++i) {
      r.body += (i ? ",{\"id\":" : "{\"id\":") + json(names[i]).dump() +
                ",\"object\":\"model\",\"created\":" + std::to_string(created) +
                ",\"owned_by\":\"llmload-mock\"}";
    }
    r.body += "]}";
  } else {
    r.body = "{\"models\":[";
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string model = json(names[i]).dump();
      r.body += (i ? ",{\"name\":" : "{\"name\":") + model + ",\"model\":" + model +
                ",\"modified_at\":\"" + rfc3339(ctx.wall_ns) +
                "\",\"size\":0,\"digest\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\","
                "\"details\":{\"format\":\"gguf\",\"family\":\"mock\",\"parameter_size\":\"0B\","
                "\"quantization_level\":\"none\"}}";
    }
    r.body += "]}";
  }
  return r;
}

Generation plan_generation(Api api, const HttpRequest& req, PlanContext& ctx) {
  const MockOptions& o = ctx.options;
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw BadRequest{"request body is not valid JSON"};
  if (!body.is_object()) throw BadRequest{"request body must be a JSON object"};

  Generation g;
  g.api = api;
  g.id = ctx.id;
  g.text = &ctx.text;
  g.created_s = ctx.wall_ns / 1'000'000'000;
  const json* model = field(body, "model");
  if (model && !model->is_string()) throw BadRequest{"'model' must be a string"};
  g.model_json = json(model ? model->get<std::string>() : o.model).dump();

  int limit = 0;  // from the request: max_tokens, max_completion_tokens, num_predict
  switch (api) {
    case Api::kOpenAiChat:
      require_messages(body);
      for (const auto& m : body["messages"])
        if (m.is_object() && m.contains("content"))
          g.prompt_tokens += words_in_content(m["content"]);
      g.stream = bool_field(body, "stream", false);
      limit = positive_int_field(body, "max_completion_tokens", 0);
      if (!limit) limit = positive_int_field(body, "max_tokens", 0);
      break;
    case Api::kOpenAiCompletions: {
      const json* p = field(body, "prompt");
      if (!p || !(p->is_string() || p->is_array()))
        throw BadRequest{"'prompt' must be a string or an array"};
      g.prompt_tokens = words_in_content(*p);
      g.stream = bool_field(body, "stream", false);
      limit = positive_int_field(body, "max_tokens", 0);
      break;
    }
    case Api::kOllamaChat:
    case Api::kOllamaGenerate: {
      if (api == Api::kOllamaChat) {
        require_messages(body);
        for (const auto& m : body["messages"])
          if (m.is_object() && m.contains("content"))
            g.prompt_tokens += words_in_content(m["content"]);
      } else {
        const json* p = field(body, "prompt");
        if (p && !p->is_string()) throw BadRequest{"'prompt' must be a string"};
        if (p) g.prompt_tokens = words_in_content(*p);
        if (const json* s = field(body, "system"); s && s->is_string())
          g.prompt_tokens += words_in_content(*s);
      }
      g.stream = bool_field(body, "stream", true);
      if (const json* opts = field(body, "options")) {
        if (!opts->is_object()) throw BadRequest{"'options' must be an object"};
        const json* np = field(*opts, "num_predict");
        if (np) {
          if (!np->is_number_integer())
            throw BadRequest{"'options.num_predict' must be an integer"};
          int64_t n = np->get<int64_t>();
          if (n > 1'000'000) throw BadRequest{"'options.num_predict' is over 1000000"};
          if (n > 0) limit = int(n);  // -1 (and -2): unlimited, as Ollama reads it
        }
      }
      break;
    }
    case Api::kAnthropicMessages:
      require_messages(body);
      for (const auto& m : body["messages"])
        if (m.is_object() && m.contains("content"))
          g.prompt_tokens += words_in_content(m["content"]);
      if (const json* s = field(body, "system")) g.prompt_tokens += words_in_content(*s);
      if (!field(body, "max_tokens")) throw BadRequest{"'max_tokens' is required"};
      limit = positive_int_field(body, "max_tokens", 0);
      g.stream = bool_field(body, "stream", false);
      break;
    case Api::kOpenAiEmbeddings: {
      // `input`: one text or an array of texts (token-id arrays are not served).
      const json* in = field(body, "input");
      if (!in || !(in->is_string() || in->is_array()))
        throw BadRequest{"'input' must be a string or an array of strings"};
      if (in->is_array()) {
        if (in->empty()) throw BadRequest{"'input' is an empty array"};
        if (in->size() > 2048) throw BadRequest{"'input' has more than 2048 entries"};
        for (const auto& t : *in)
          if (!t.is_string()) throw BadRequest{"'input' must be a string or an array of strings"};
      }
      g.inputs = in->is_array() ? int(in->size()) : 1;
      g.prompt_tokens = words_in_content(*in);
      g.stream = false;
      break;
    }
  }
  if (const json* so = field(body, "stream_options"); so && so->is_object())
    g.include_usage = bool_field(*so, "include_usage", false);

  // Output length: x-mock-tokens, else the request's limit, else the configured distribution.
  if (const std::string* t = req.header("x-mock-tokens")) {
    auto d = TokenDistribution::parse(*t);
    if (!d) throw BadRequest{"header x-mock-tokens: " + d.error()};
    g.content_tokens = d->sample(ctx.rng);
  } else if (limit > 0) {
    g.content_tokens = limit;
    g.length_limited = true;
  } else {
    g.content_tokens = o.tokens.sample(ctx.rng);
  }
  if (api == Api::kOpenAiEmbeddings) g.content_tokens = 0;  // embeds, generates nothing
  g.reasoning_tokens =
      int(header_int(req, "x-mock-reasoning-tokens", 0, 1'000'000, o.reasoning_tokens));
  if (api == Api::kOpenAiCompletions || api == Api::kOllamaGenerate ||
      api == Api::kOpenAiEmbeddings)
    g.reasoning_tokens = 0;
  g.tokens_per_chunk =
      int(header_int(req, "x-mock-tokens-per-chunk", 1, 10'000, o.tokens_per_chunk));
  g.ttft_ns = header_duration(req, "x-mock-ttft", o.ttft_ns);
  g.itl_ns = header_duration(req, "x-mock-itl", o.itl_ns);
  g.prefill_ns =
      header_duration(req, "x-mock-prompt-per-token", o.prompt_ns_per_token) * g.prompt_tokens;
  g.load_ns = header_duration(req, "x-mock-load", o.load_ns);
  if (o.cold_start_ns > 0 && ctx.loaded_at != nullptr) {
    // The first generation request starts the load; those before its end wait for it.
    const int64_t now = mono_now_ns();
    int64_t loaded = ctx.loaded_at->load(std::memory_order_acquire);
    if (loaded == 0 && ctx.loaded_at->compare_exchange_strong(loaded, now + o.cold_start_ns))
      loaded = now + o.cold_start_ns;
    if (now < loaded) g.load_ns += loaded - now;
  }
  const double share = header_share(req, "x-mock-cached-share", o.cached_share);
  if (share >= 0) g.cached_tokens = int(std::floor(double(g.prompt_tokens) * share));
  g.role_chunk = header_bool(req, "x-mock-role-chunk", o.role_chunk);
  g.usage_mode = o.usage_mode;
  if (const std::string* u = req.header("x-mock-usage")) {
    if (*u == "chunk")
      g.usage_mode = UsageMode::kChunk;
    else if (*u == "final")
      g.usage_mode = UsageMode::kFinal;
    else if (*u == "none")
      g.usage_mode = UsageMode::kNone;
    else
      throw BadRequest{"header x-mock-usage: '" + *u + "' is not chunk, final or none"};
  }
  g.stream_key = uint64_t(header_int(req, "x-mock-seed", 0, INT64_MAX, int64_t(ctx.stream_key)));
  g.created_at = rfc3339(ctx.wall_ns);

  // Fault: by header, else at the configured rate.
  if (const std::string* f = req.header("x-mock-fault")) {
    auto parsed = parse_fault(*f);
    if (!parsed) throw BadRequest{"header x-mock-fault: " + parsed.error()};
    g.fault = *parsed;
  } else {
    g.fault = o.faults.pick(ctx.rng);
  }
  int after = int(header_int(req, "x-mock-fault-after", 0, 1'000'000, o.faults.after));
  g.fault_after = after >= 0 ? after : g.total_tokens() / 2;
  return g;
}

}  // namespace

int count_words(std::string_view s) {
  int n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

Reply error_reply(std::string_view path, int status, std::string_view message) {
  Reply r;
  r.status = status;
  OutBuffer out(256);
  StreamFormat::for_api(api_for_path(path)).error_body(status, message, out);
  r.body.assign(out.data(), out.size());
  return r;
}

RequestPlan plan_request(const HttpRequest& req, PlanContext& ctx) {
  RequestPlan plan;
  std::string_view path = req.path();
  const Route* route = nullptr;
  bool path_known = false;
  std::string allow;
  for (const auto& r : kRoutes) {
    if (path != r.path) continue;
    path_known = true;
    allow = r.method;
    if (req.method == r.method) route = &r;
  }
  if (!route) {
    if (path_known) {
      plan.reply =
          error_reply(path, 405, "method " + req.method + " not allowed on " + std::string(path));
      plan.reply.extra_headers = "Allow: " + allow + "\r\n";
    } else {
      plan.reply = error_reply(path, 404, "no such path: " + std::string(path));
    }
    return plan;
  }
  if (route->kind == kMetrics) {
    if (!ctx.metrics) {
      plan.reply = error_reply(path, 404, "no such path: " + std::string(path));
    } else {
      plan.reply.content_type = "text/plain; version=0.0.4";
      plan.reply.body = ctx.metrics->render();
    }
    return plan;
  }
  if (route->kind >= kHealth) {
    plan.reply = plain_reply(route->kind, ctx);
    return plan;
  }
  try {
    plan.gen = plan_generation(Api(route->kind), req, ctx);
    plan.kind = RequestPlan::Kind::kGenerate;
  } catch (const BadRequest& e) {
    plan.reply = error_reply(path, 400, e.message);
  } catch (const nlohmann::json::exception& e) {
    plan.reply = error_reply(path, 400, std::string("bad request body: ") + e.what());
  }
  return plan;
}

}  // namespace llmload::mock
