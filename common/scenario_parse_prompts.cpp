// YAML → Scenario: the prompts section (datasets themselves are read by prompts_dataset.cpp).
#include <filesystem>
#include <limits>

#include "common/scenario_parse_ctx.h"
#include "common/tokenizer.h"

namespace llmload::scenario_parse {

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

std::optional<Message> parse_message(Ctx& ctx, const YAML::Node& m, const std::string& p) {
  if (!ctx.expect_map(m, p, {"role", "content"})) return std::nullopt;
  if (!m["role"].IsDefined() || !m["content"].IsDefined()) {
    ctx.error(m, p, "a message needs role and content");
    return std::nullopt;
  }
  auto role = ctx.choice(m["role"], p + ".role", {"system", "user", "assistant"});
  auto content = ctx.str(m["content"], p + ".content");
  if (!role || !content) return std::nullopt;
  return Message{*role, *content};
}

// `labels: {task: rag, agent: planner}` on an inline prompt.
void parse_labels(Ctx& ctx, const YAML::Node& n, const std::string& p, Labels& out) {
  if (!n.IsDefined()) return;
  if (!n.IsMap()) {
    ctx.error(n, p, "expected a map of label → value");
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (auto v = ctx.str(it->second, p + "." + key)) out[key] = *v;
  }
  if (auto why = row_labels_problem(out)) ctx.error(n, p, *why);
}

std::optional<InlinePrompt> parse_item(Ctx& ctx, const YAML::Node& n, const std::string& p,
                                       bool conversation) {
  InlinePrompt item;
  if (n.IsScalar() && !conversation) {
    item.text = n.Scalar();
    if (item.text.empty()) ctx.error(n, p, "empty prompt");
    return item;
  }
  if (conversation) {
    if (!ctx.expect_map(n, p, {"turns", "labels"})) return std::nullopt;
    parse_labels(ctx, n["labels"], p + ".labels", item.labels);
    const YAML::Node turns = n["turns"];
    if (!turns.IsSequence() || turns.size() == 0) {
      ctx.error(n, p + ".turns", "expected a non-empty list of {user, reply}");
      return std::nullopt;
    }
    for (size_t i = 0; i < turns.size(); ++i) {
      const std::string tp = p + ".turns[" + std::to_string(i) + "]";
      if (!ctx.expect_map(turns[i], tp, {"user", "reply"})) continue;
      Turn t;
      if (!turns[i]["user"].IsDefined()) {
        ctx.error(turns[i], tp, "missing 'user'");
        continue;
      }
      t.user = ctx.str(turns[i]["user"], tp + ".user").value_or("");
      if (turns[i]["reply"].IsDefined())
        t.recorded_reply = ctx.str(turns[i]["reply"], tp + ".reply").value_or("");
      item.turns.push_back(std::move(t));
    }
    return item;
  }
  if (!ctx.expect_map(n, p, {"text", "messages", "max_tokens", "labels"})) return std::nullopt;
  parse_labels(ctx, n["labels"], p + ".labels", item.labels);
  if (n["text"].IsDefined() == n["messages"].IsDefined()) {
    ctx.error(n, p, "give either text or messages");
    return std::nullopt;
  }
  if (n["text"].IsDefined()) {
    item.text = ctx.str(n["text"], p + ".text").value_or("");
    if (item.text.empty()) ctx.error(n["text"], p + ".text", "empty prompt");
  } else {
    const YAML::Node ms = n["messages"];
    if (!ms.IsSequence() || ms.size() == 0) {
      ctx.error(ms, p + ".messages", "expected a non-empty list of {role, content}");
    } else {
      for (size_t i = 0; i < ms.size(); ++i) {
        if (auto m = parse_message(ctx, ms[i], p + ".messages[" + std::to_string(i) + "]"))
          item.messages.push_back(std::move(*m));
      }
    }
  }
  if (n["max_tokens"].IsDefined()) {
    if (auto v = ctx.integer(n["max_tokens"], p + ".max_tokens", 1, kMaxInt)) item.max_tokens = *v;
  }
  return item;
}

}  // namespace

void parse_prompts(Ctx& ctx, const YAML::Node& n, PromptSource& p) {
  if (!ctx.expect_map(
          n, "prompts",
          {"source", "items", "file", "system", "sampling", "limit", "output_from_reply",
           "input_tokens", "shared_prefix_tokens", "unique_prefix", "history",
           "history_max_bytes", "sticky", "tokenizer"})) {
    return;
  }
  if (n["source"].IsDefined()) {
    auto s = ctx.choice(n["source"], "prompts.source",
                        {"inline", "jsonl", "sharegpt", "synthetic", "conversations"});
    if (!s) return;
    if (*s == "inline")
      p.kind = PromptSourceKind::kInline;
    else if (*s == "jsonl")
      p.kind = PromptSourceKind::kJsonl;
    else if (*s == "sharegpt")
      p.kind = PromptSourceKind::kShareGpt;
    else if (*s == "synthetic")
      p.kind = PromptSourceKind::kSynthetic;
    else
      p.kind = PromptSourceKind::kConversations;
  } else if (n["items"].IsDefined()) {
    p.kind = PromptSourceKind::kInline;
  } else if (n["file"].IsDefined()) {
    ctx.error(n, "prompts.source",
              "missing: say what the file holds (jsonl, sharegpt or conversations)");
    return;
  } else {
    p.kind = PromptSourceKind::kSynthetic;
  }
  const std::string kind_name(prompt_source_name(p.kind));
  // Each field applies to some sources only: reject the rest so a typo'd intent is not ignored.
  auto allowed = [&](const char* field, std::initializer_list<PromptSourceKind> kinds) {
    if (!n[field].IsDefined()) return false;
    for (PromptSourceKind k : kinds)
      if (k == p.kind) return true;
    ctx.error(n[field], std::string("prompts.") + field, "does not apply to source " + kind_name);
    return false;
  };
  using K = PromptSourceKind;
  const bool is_file = p.kind == K::kJsonl || p.kind == K::kShareGpt || p.kind == K::kConversations;
  if (allowed("items", {K::kInline, K::kConversations})) {
    const YAML::Node items = n["items"];
    if (!items.IsSequence() || items.size() == 0) {
      ctx.error(items, "prompts.items", "expected a non-empty list of prompts");
    } else {
      for (size_t i = 0; i < items.size(); ++i) {
        if (auto it = parse_item(ctx, items[i], "prompts.items[" + std::to_string(i) + "]",
                                 p.kind == K::kConversations))
          p.items.push_back(std::move(*it));
      }
    }
  } else if (p.kind == K::kInline) {
    ctx.error(n, "prompts.items", "missing: source inline needs a list of prompts");
  }
  if (allowed("file", {K::kJsonl, K::kShareGpt, K::kConversations})) {
    if (p.kind == K::kConversations && n["items"].IsDefined()) {
      ctx.error(n["file"], "prompts.file", "give either file or items");
    } else if (auto f = ctx.str(n["file"], "prompts.file")) {
      p.file = ctx.resolve_path(*f);
      std::error_code ec;
      if (!ctx.check_files) {
      } else if (!std::filesystem::is_regular_file(p.file, ec)) {
        ctx.error(n["file"], "prompts.file", "file not found: " + p.file);
      } else if (std::filesystem::file_size(p.file, ec) == 0) {
        ctx.error(n["file"], "prompts.file", "empty file: " + p.file);
      }
    }
  } else if (is_file && !(p.kind == K::kConversations && n["items"].IsDefined())) {
    ctx.error(n, "prompts.file", "missing: source " + kind_name + " reads a file");
  }
  if (n["system"].IsDefined()) p.system = ctx.str(n["system"], "prompts.system").value_or("");
  if (allowed("sampling", {K::kInline, K::kJsonl, K::kShareGpt, K::kConversations})) {
    if (auto s =
            ctx.choice(n["sampling"], "prompts.sampling", {"random", "shuffle", "sequential"})) {
      p.sampling = *s == "shuffle"      ? Sampling::kShuffle
                   : *s == "sequential" ? Sampling::kSequential
                                        : Sampling::kRandom;
    }
  }
  if (allowed("limit", {K::kJsonl, K::kShareGpt, K::kConversations})) {
    p.limit = ctx.integer(n["limit"], "prompts.limit", 1, kMaxInt).value_or(0);
  }
  if (allowed("output_from_reply", {K::kShareGpt})) {
    p.output_from_reply =
        ctx.boolean(n["output_from_reply"], "prompts.output_from_reply").value_or(false);
  }
  if (allowed("input_tokens", {K::kSynthetic})) {
    if (auto d = ctx.distribution(n["input_tokens"], "prompts.input_tokens", false)) {
      if (d->kind == DistKind::kFixed && d->value < 1)
        ctx.error(n["input_tokens"], "prompts.input_tokens", "must be at least 1");
      else if (d->expected_mean() > 1'000'000)
        ctx.error(n["input_tokens"], "prompts.input_tokens", "too long (at most 1000000 tokens)");
      else
        p.input_tokens = *d;
    }
  }
  if (allowed("shared_prefix_tokens", {K::kSynthetic})) {
    p.shared_prefix_tokens =
        ctx.integer(n["shared_prefix_tokens"], "prompts.shared_prefix_tokens", 0, 1'000'000)
            .value_or(0);
  }
  if (n["unique_prefix"].IsDefined()) {
    p.unique_prefix = ctx.boolean(n["unique_prefix"], "prompts.unique_prefix").value_or(false);
  }
  if (n["tokenizer"].IsDefined()) {
    if (auto f = ctx.str(n["tokenizer"], "prompts.tokenizer")) {
      p.tokenizer = ctx.resolve_path(*f);
      // Loaded now (once per process: shared_tokenizer), so a bad file is a scenario error.
      if (ctx.check_files) {
        auto tok = shared_tokenizer(p.tokenizer);
        if (!tok) ctx.error(n["tokenizer"], "prompts.tokenizer", tok.error());
      }
    }
  }
  if (allowed("history", {K::kConversations})) {
    if (auto h = ctx.choice(n["history"], "prompts.history", {"recorded", "live"}))
      p.history = *h == "live" ? History::kLive : History::kRecorded;
  }
  if (allowed("history_max_bytes", {K::kConversations})) {
    if (auto b = ctx.integer(n["history_max_bytes"], "prompts.history_max_bytes", 1024,
                             16 * 1024 * 1024))
      p.history_max_bytes = *b;
  }
  if (allowed("sticky", {K::kConversations})) {
    p.sticky = ctx.boolean(n["sticky"], "prompts.sticky").value_or(false);
  }
}

}  // namespace llmload::scenario_parse
