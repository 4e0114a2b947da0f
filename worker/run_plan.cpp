#include "worker/run_plan.h"

#include <algorithm>

#include "common/conversation.h"
#include "common/shared_file.h"
#include "common/synthetic_text.h"
#include "common/token_words.h"
#include "worker/api_adapter.h"

namespace llmload::worker {

namespace {

std::vector<std::pair<std::string, std::string>> pairs(const std::vector<Message>& ms) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(ms.size());
  for (const Message& m : ms) out.emplace_back(m.role, m.content);
  return out;
}

// The prompts the plan serialises when it writes bodies per send: one placeholder prompt for a
// synthetic or trace run, the shipped prompts with a tag hole for unique_prefix.
std::vector<ResolvedPrompt> template_prompts(const Scenario& s,
                                             const std::vector<ResolvedPrompt>& shipped) {
  const std::string tag = std::string(kTagSentinel);
  if (prompts_written_on_worker(s)) {
    ResolvedPrompt p;
    if (!s.load.trace) p.system = s.prompts.system;
    p.text = std::string(kTextSentinel);
    if (s.load.trace || s.output.max_tokens) p.max_tokens = kMaxTokensSentinel;
    return {p};
  }
  std::vector<ResolvedPrompt> out = shipped;
  for (ResolvedPrompt& p : out) {
    auto before = [&](std::string& text) { text = text.empty() ? tag : tag + " " + text; };
    if (!p.turns.empty()) {
      before(p.turns.front().user);
    } else if (!p.messages.empty()) {
      auto user = std::find_if(p.messages.begin(), p.messages.end(),
                               [](const Message& m) { return m.role == "user"; });
      before(user != p.messages.end() ? user->content : p.messages.front().content);
    } else {
      before(p.text);
    }
  }
  return out;
}

// With a tokenizer, the writer's texts are exact by construction (one-token words, the tag
// counted): checked here with the real encoder on sample requests (and trace rows), so a
// tokenizer that merges across the tag's edges fails the plan, never sends wrong lengths. ""
// when all agree, else what differed.
std::string check_exact(const BodyWriter& w, const Trace* trace, uint64_t seed) {
  constexpr int64_t kBudget = 256 * 1024;  // tokens encoded at most (at least one sample)
  int64_t spent = 0;
  std::string text;
  auto check = [&](const BodyFill& f, const std::string& what) {
    const int64_t want = w.text_tokens(f);
    if (want < 0) return std::string();
    text.clear();
    w.append_text(text, f);
    const auto got = int64_t(w.tokenizer->count(text));
    spent += got;
    if (got == want) return std::string();
    return what + " written as " + std::to_string(want) + " tokens encodes to " +
           std::to_string(got) + " (it begins '" + text.substr(0, 80) +
           "'): its words merge across the prompt's parts";
  };
  if (trace != nullptr) {
    for (size_t i = 0; i < trace->rows.size() && i < 16 && (i == 0 || spent < kBudget); ++i) {
      BodyFill f;
      f.key = f.tag_key = request_key(seed, 0, int64_t(i));
      f.row = &trace->rows[i];
      f.trace = trace;
      if (auto bad = check(f, "trace row " + std::to_string(trace->rows[i].line)); !bad.empty())
        return bad;
    }
    return "";
  }
  for (int64_t i = 0; i < 32 && (i == 0 || spent < kBudget); ++i) {
    BodyFill f;
    f.key = f.tag_key = request_key(seed, 0, i);
    if (auto bad = check(f, "a synthetic prompt"); !bad.empty()) return bad;
  }
  return "";
}

}  // namespace

int RunPlan::pick_group(double u) const {
  double acc = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    acc += groups[i].weight;
    if (u < acc) return static_cast<int>(i);
  }
  return static_cast<int>(groups.size()) - 1;
}

std::vector<Labels> RunPlan::group_labels() const {
  std::vector<Labels> out;
  for (const RecordGroup& g : record_groups) out.push_back(g.labels);
  return out;
}

Expected<std::shared_ptr<const RunPlan>> build_run_plan(
    const Scenario& s, const std::vector<ResolvedPrompt>& shipped) {
  auto plan = std::make_shared<RunPlan>();
  plan->slo = s.slo.request;
  plan->cancel = s.cancel;
  if (s.targets.empty()) return Error{"scenario has no targets"};
  if (shipped.empty()) return Error{"the run has no prompts"};
  plan->synthetic = prompts_written_on_worker(s);
  plan->dataset = prompts_read_on_worker(s);
  plan->sampling = s.prompts.sampling;
  plan->seed = s.seed;
  plan->per_request = plan->synthetic || s.prompts.unique_prefix;
  std::vector<ResolvedPrompt> templated;
  if (plan->per_request) templated = template_prompts(s, shipped);
  const std::vector<ResolvedPrompt>& prompts = plan->per_request ? templated : shipped;
  if (s.load.trace) {
    // The worker reads the trace from the path the coordinator checked (DESIGN.md "Prompts on
    // the worker"): the same file must be there.
    auto trace = load_trace(*s.load.trace);
    if (!trace) return Error{"load.trace: " + trace.error()};
    plan->trace = std::make_shared<const Trace>(std::move(trace.value()));
    plan->trace_spec = *s.load.trace;
  }
  if (!s.prompts.tokenizer.empty()) {
    // The worker reads the tokenizer from the path the coordinator checked, as the trace: it
    // writes synthetic prompts exact in its tokens and counts output tokens when a server sends
    // no usage (worker/output_text.h).
    auto tok = shared_tokenizer(s.prompts.tokenizer);
    if (!tok) return Error{"prompts.tokenizer: " + tok.error()};
    plan->tokenizer = *tok;
  }
  BodyWriter& w = plan->writer;
  w.seed = s.seed;
  if (plan->synthetic && plan->tokenizer) {
    // Exact in the tokenizer's tokens: one-token words (checked once per process).
    auto words = single_token_words(plan->tokenizer, s.prompts.tokenizer);
    if (!words) return Error{"prompts.tokenizer: " + words.error()};
    w.words = *words;
    w.tokenizer = plan->tokenizer;
  }
  if (plan->synthetic && !s.load.trace) {
    w.input_tokens = s.prompts.input_tokens;
    w.shared_prefix_tokens = s.prompts.shared_prefix_tokens;
    // The shared prefix: the same words on every request of the run (from the seed alone).
    append_synthetic_tokens(w.shared_prefix, mix64(s.seed ^ 0x707265666978ULL),
                            s.prompts.shared_prefix_tokens,
                            w.words ? *w.words : SyntheticWords::standard());
    w.unique_prefix = s.prompts.unique_prefix;
  }
  w.max_tokens = s.output.max_tokens;
  if (w.tokenizer) {
    if (auto bad = check_exact(w, plan->trace.get(), s.seed); !bad.empty())
      return Error{"prompts.tokenizer: tokenizer '" + s.prompts.tokenizer + "': " + bad};
  }

  plan->sticky = s.prompts.sticky;
  plan->history_max_bytes = s.prompts.history_max_bytes;
  std::vector<Labels> label_sets;  // the prompts' distinct row labels (and turn, if any)
  for (size_t i = 0; i < prompts.size(); ++i) {
    const ResolvedPrompt& p = prompts[i];
    plan->conversation_start.push_back(static_cast<int64_t>(plan->items.size()));
    const size_t turns = std::max<size_t>(1, p.turns.size());
    for (size_t t = 0; t < turns; ++t) {
      const Labels labels = prompt_turn_labels(s, p, t);
      auto set = std::find(label_sets.begin(), label_sets.end(), labels);
      if (set == label_sets.end()) set = label_sets.insert(label_sets.end(), labels);
      const auto label_set = static_cast<int32_t>(set - label_sets.begin());
      plan->items.push_back(PlanItem{int64_t(i), p.index, int32_t(t), t + 1 == turns, label_set});
    }
    if (p.turns.size() > 1 && s.prompts.history == History::kLive) plan->live_history = true;
  }
  if (plan->live_history) plan->live_prompts = prompts;

  double target_weights = 0;
  for (const Target& t : s.targets) target_weights += t.weight > 0 ? t.weight : 0;
  if (target_weights <= 0) return Error{"targets: no target has a positive weight"};

  for (const Target& t : s.targets) {
    if (t.is_mock()) return Error{"target " + t.name + ": 'mock' must be started by the caller"};
    PlanTarget pt;
    pt.name = t.name;
    auto ep = Endpoint::parse(t.url);
    if (!ep) return Error{"target " + t.name + ": " + ep.error()};
    pt.endpoint = std::move(ep.value());
    if (pt.endpoint.tls) {
      TlsOptions o;
      o.insecure = t.tls.insecure;
      o.ca_file = t.tls.ca_file;
      o.cert_file = t.tls.cert_file;
      o.key_file = t.tls.key_file;
      auto ctx = TlsContext::create(o);
      if (!ctx) return Error{"target " + t.name + ": " + ctx.error()};
      pt.tls = ctx.value();
      if (t.tls.insecure) plan->insecure = true;
    }
    pt.adapter = make_adapter(t.api);
    pt.timeouts = t.timeouts;
    pt.streamed = s.output.stream && pt.adapter->stream_framing() != Framing::json_body;
    const int target_index = static_cast<int>(plan->targets.size());

    std::vector<HttpHeader> headers;
    for (const AdapterHeader& h : pt.adapter->required_headers())
      headers.push_back({std::string(h.name), std::string(h.value)});
    for (const Header& h : t.headers) headers.push_back({h.name, h.value});
    const std::string path = pt.endpoint.path_for(pt.adapter->endpoint_path());
    const bool chat = api_is_chat(t.api);

    double model_weights = 0;
    for (const ModelChoice& m : t.models) model_weights += m.weight > 0 ? m.weight : 0;
    if (t.models.empty() || model_weights <= 0) {
      return Error{"target " + t.name + ": no model with a positive weight"};
    }
    for (const ModelChoice& m : t.models) {
      PlanGroup g;
      for (const Labels& set : label_sets) {
        Labels labels = group_labels(s, t, m, set);
        auto it = std::find_if(plan->record_groups.begin(), plan->record_groups.end(),
                               [&](const RecordGroup& r) { return r.labels == labels; });
        if (it == plan->record_groups.end()) {
          std::string key = group_key(labels);
          it = plan->record_groups.insert(plan->record_groups.end(),
                                          RecordGroup{std::move(labels), std::move(key)});
        }
        g.record.push_back(static_cast<int>(it - plan->record_groups.begin()));
      }
      g.target = target_index;
      g.model = m.name;
      g.weight = (t.weight / target_weights) * (m.weight / model_weights);
      g.body.model = m.name;
      g.body.temperature = s.output.temperature;
      g.body.include_usage = t.stream_options.include_usage;
      g.body.continuous_usage = t.stream_options.continuous_usage;
      g.body.ignore_eos = s.output.ignore_eos;
      if (!s.output.extra.empty()) g.body.extra_body_json = s.output.extra.dump();
      g.headers = headers;
      g.path = path;
      g.requests.reserve(plan->items.size());
      for (const PlanItem& it : plan->items) {
        const ResolvedPrompt& p = prompts[static_cast<size_t>(it.position)];
        BodyInput in;
        in.model = m.name;
        in.max_tokens = p.max_tokens;
        in.temperature = s.output.temperature;
        in.include_usage = t.stream_options.include_usage;
        in.continuous_usage = t.stream_options.continuous_usage;
        in.ignore_eos = s.output.ignore_eos;
        if (!s.output.extra.empty()) in.extra_body_json = s.output.extra.dump();
        in.stream = s.output.stream;
        if (api_descriptor(t.api).batches) {
          // The batch: this prompt and the next output.batch - 1 of the list (wrapping).
          for (int64_t k = 0; k < s.output.batch; ++k)
            in.inputs.push_back(
                prompt_text(prompts[(size_t(it.position) + size_t(k)) % prompts.size()]));
        }
        if (!p.turns.empty()) {
          in.messages = pairs(conversation_messages(p, size_t(it.turn), nullptr));
        } else if (chat) {
          in.messages = pairs(prompt_messages(p));
        } else {
          in.text = prompt_text(p);
        }
        auto body = build_request_body(*pt.adapter, in);
        if (!body)
          return Error{"target " + t.name + ", prompt " + std::to_string(p.index) + ": " +
                       body.error()};
        auto req = HttpRequest::build("POST", pt.endpoint, path, headers, body.value());
        if (!req) return Error{"target " + t.name + ": " + req.error()};
        if (plan->per_request) {
          auto tmpl = BodyTemplate::make(req.value(), plan->synthetic);
          if (!tmpl) return Error{"target " + t.name + ": " + tmpl.error()};
          g.templates.push_back(std::move(tmpl.value()));
        }
        g.requests.push_back(std::move(req.value()));
      }
      plan->groups.push_back(std::move(g));
    }
    plan->targets.push_back(std::move(pt));
  }
  if (plan->trace) {
    // A row naming a model goes to the groups sending that model.
    for (const std::string& model : plan->trace->models) {
      std::vector<int> groups;
      for (size_t g = 0; g < plan->groups.size(); ++g)
        if (plan->groups[g].model == model) groups.push_back(int(g));
      if (groups.empty())
        return Error{"load.trace: model '" + model + "' (in " + s.load.trace->file +
                     ") is no model of any target"};
      plan->model_groups.push_back(std::move(groups));
    }
  }
  return std::shared_ptr<const RunPlan>(std::move(plan));
}

}  // namespace llmload::worker
