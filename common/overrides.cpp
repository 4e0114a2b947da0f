#include "common/overrides.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "common/api.h"
#include "common/duration.h"
#include "common/env_expand.h"
#include "common/number_format.h"
#include "common/scenario_parse_ctx.h"
#include "common/tokenizer.h"

namespace llmload {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string default_name(const std::string& url) {
  if (url == "mock") return "mock";
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

bool Overrides::empty() const {
  return !target && !api && !model && !concurrency && !rate && !duration && !requests && !warmup &&
         !grace && !interval && headers.empty() && !insecure && !ca_file && asserts.empty() &&
         !target_metrics && !wait_ready && !tokenizer;
}

std::vector<std::string> apply_overrides(Scenario& s, const Overrides& o) {
  std::vector<std::string> errors;
  auto record = [&](const std::string& text) { s.overrides.push_back(text); };
  auto duration = [&](const std::optional<std::string>& v, const char* flag, bool allow_zero,
                      int64_t& field) {
    if (!v) return;
    auto d = parse_duration_ns(*v);
    if (!d && allow_zero && *v == "0") d = int64_t{0};
    if (!d)
      errors.push_back(std::string(flag) + ": " + d.error());
    else if (*d < 0 || (*d == 0 && !allow_zero))
      errors.push_back(std::string(flag) + ": must be greater than 0");
    else
      field = *d, record(std::string(flag) + " " + *v);
  };

  if (o.target) {
    const std::string& u = *o.target;
    const bool http = u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
    if (u != "mock" && (!http || default_name(u).empty())) {
      errors.push_back("--target: expected mock or http(s)://host[:port][/prefix], got '" + u +
                       "'");
    } else {
      for (Target& t : s.targets) t.url = u;
      if (s.targets.size() == 1) s.targets[0].name = default_name(u);
      record("--target " + u);
    }
  }
  if (o.api) {
    if (auto a = parse_api(*o.api)) {
      for (Target& t : s.targets) t.api = *a;
      record("--api " + *o.api);
    } else {
      const std::vector<std::string> names(api_names().begin(), api_names().end());
      const std::string hint = scenario_parse::closest_match(*o.api, names);
      errors.push_back(
          "--api: unknown API '" + *o.api + "'" +
          (hint.empty() ? " (" + api_name_list() + ")" : " (did you mean '" + hint + "'?)"));
    }
  }
  if (o.model) {
    if (o.model->empty()) {
      errors.push_back("--model: must not be empty");
    } else {
      for (Target& t : s.targets) t.models = {ModelChoice{*o.model, 1}};
      record("--model " + *o.model);
    }
  }
  if (o.concurrency && o.rate) {
    errors.push_back("--concurrency and --rate: give one (each sets the load mode)");
  } else if (o.concurrency) {
    if (*o.concurrency < 1) {
      errors.push_back("--concurrency: must be at least 1");
    } else {
      s.load.mode = LoadMode::kConcurrency;
      s.load.concurrency = *o.concurrency;
      s.load.rate = 0;
      s.load.stages.clear();
      s.load.max_in_flight = 0;
      s.load.arrival = Arrival::kConstant;
      record("--concurrency " + std::to_string(*o.concurrency));
    }
  } else if (o.rate) {
    if (!(*o.rate > 0)) {
      errors.push_back("--rate: must be greater than 0");
    } else {
      s.load.mode = LoadMode::kRate;
      s.load.rate = *o.rate;
      s.load.concurrency = 0;
      s.load.stages.clear();
      // A think time stays only where rate mode uses it: between a conversation's turns.
      if (s.prompts.kind != PromptSourceKind::kConversations)
        s.load.think_time = Distribution::fixed(0);
      record("--rate " + format_general(*o.rate));
    }
  }
  if (o.duration || o.requests) {
    // A limit on the command line replaces both of the scenario's limits.
    s.load.duration_ns = 0;
    s.load.requests = 0;
    duration(o.duration, "--duration", false, s.load.duration_ns);
    if (o.requests) {
      if (*o.requests < 1)
        errors.push_back("--requests: must be at least 1");
      else
        s.load.requests = *o.requests, record("--requests " + std::to_string(*o.requests));
    }
  }
  duration(o.warmup, "--warmup", true, s.load.warmup_ns);
  duration(o.grace, "--grace", true, s.load.grace_ns);
  duration(o.interval, "--interval", false, s.interval_ns);
  for (const std::string& h : o.headers) {
    const size_t colon = h.find(':');
    std::string name = colon == std::string::npos ? "" : h.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    // The value is never quoted back: it may be a secret typed on the command line.
    if (colon == std::string::npos) {
      errors.push_back("--header: expected 'Name: value' (no ':' found)");
      continue;
    }
    if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      errors.push_back("--header: expected 'Name: value', got the name '" + name + "'");
      continue;
    }
    auto probe = expand_env(value, [](const std::string&) { return std::string(); });
    if (!probe) {
      errors.push_back("--header " + name + ": " + probe.error());
      continue;
    }
    Header hdr{name, value, probe->used.empty() ? value : "", !probe->used.empty()};
    for (Target& t : s.targets) {
      auto it = std::find_if(t.headers.begin(), t.headers.end(),
                             [&](const Header& x) { return lower(x.name) == lower(name); });
      if (it != t.headers.end())
        *it = hdr;
      else
        t.headers.push_back(hdr);
    }
    // Recorded as the template when it names variables; a literal value is never recorded.
    record("--header '" + name + ": " + (hdr.secret ? value : "***") + "'");
  }
  if (o.insecure) {
    for (Target& t : s.targets) t.tls.insecure = true;
    record("--insecure");
  }
  if (o.target_metrics) {
    if (auto why = metrics_url_problem(*o.target_metrics)) {
      errors.push_back("--target-metrics: " + *why);
    } else if (!s.targets.empty()) {
      for (Target& t : s.targets) t.metrics_url.clear();
      s.targets[0].metrics_url = *o.target_metrics;
      record("--target-metrics " + *o.target_metrics);
    }
  }
  if (o.ca_file) {
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(*o.ca_file, ec).lexically_normal().string();
    if (!std::filesystem::is_regular_file(abs, ec)) {
      errors.push_back("--ca-file: file not found: " + *o.ca_file);
    } else {
      for (Target& t : s.targets) t.tls.ca_file = abs;
      record("--ca-file " + *o.ca_file);
    }
  }
  if (o.tokenizer) {
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(*o.tokenizer, ec).lexically_normal().string();
    if (auto tok = shared_tokenizer(abs); !tok) {
      errors.push_back("--tokenizer: " + tok.error());
    } else {
      s.prompts.tokenizer = abs;
      record("--tokenizer " + *o.tokenizer);
    }
  }
  int64_t wait_ready = -1;
  duration(o.wait_ready, "--wait-ready", true, wait_ready);
  if (wait_ready >= 0)
    for (Target& t : s.targets) t.wait_ready_ns = wait_ready;
  for (const std::string& a : o.asserts) {
    auto parsed = parse_slo_expr(a);
    if (!parsed) {
      errors.push_back("--assert: " + parsed.error());
    } else {
      s.slo.asserts.push_back(std::move(*parsed));
      record("--assert '" + a + "'");
    }
  }
  if (errors.empty()) {
    for (std::string& e : check_scenario(s)) errors.push_back(std::move(e));
  }
  return errors;
}

Expected<Scenario> load_scenario_with_overrides(const std::string& path, const Overrides& o) {
  auto s = scenario_parse::read_file(path, false);
  if (!s) return s;
  std::vector<std::string> errors = apply_overrides(*s, o);
  if (errors.empty()) return s;
  std::string all;
  for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + path + ": " + e;
  return Error{all};
}

}  // namespace llmload
