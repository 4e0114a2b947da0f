// Reading prompt datasets: JSONL prompts, ShareGPT JSON, multi-turn conversations (JSONL).
// Every error names the file and the line (or entry) at fault.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/prompts.h"

namespace llmload {

namespace {

using nlohmann::json;

constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;

std::string where(const std::string& file, size_t line) {
  return file + ":" + std::to_string(line) + ": ";
}

// A messages array: [{"role", "content"}, ...]. Error text without the location.
Expected<std::vector<Message>> read_messages(const json& a) {
  if (!a.is_array() || a.empty()) return Error{"messages must be a non-empty array"};
  std::vector<Message> out;
  for (size_t i = 0; i < a.size(); ++i) {
    const json& m = a[i];
    const std::string at = "messages[" + std::to_string(i) + "]: ";
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
        !m["content"].is_string()) {
      return Error{at + "expected {\"role\": string, \"content\": string}"};
    }
    const std::string role = m["role"];
    if (role != "system" && role != "user" && role != "assistant") {
      return Error{at + "unknown role '" + role + "' (system, user or assistant)"};
    }
    out.push_back({role, m["content"]});
  }
  return out;
}

// A row's "labels": {"task": "rag", ...} (string values), checked by row_labels_problem().
Expected<Labels> read_row_labels(const json& j) {
  Labels out;
  if (!j.is_object() || !j.contains("labels")) return out;
  const json& l = j["labels"];
  if (!l.is_object()) return Error{"\"labels\" must be an object of label → string"};
  if (l.size() > kRowLabelsMax)
    return Error{"\"labels\": more than " + std::to_string(kRowLabelsMax) + " labels"};
  for (const auto& [k, v] : l.items()) {
    if (!v.is_string()) return Error{"\"labels\"." + std::string(utf8_prefix(k, 64)) + ": expected a string"};
    out[k] = v.get<std::string>();
  }
  if (auto why = row_labels_problem(out)) return Error{"\"labels\": " + *why};
  return out;
}

Expected<InlinePrompt> jsonl_prompt(const json& j) {
  InlinePrompt p;
  if (j.is_string()) {
    p.text = j.get<std::string>();
  } else if (j.is_array()) {
    auto ms = read_messages(j);
    if (!ms) return Error{ms.error()};
    p.messages = std::move(*ms);
  } else if (j.is_object()) {
    const char* text_key = j.contains("prompt") ? "prompt" : j.contains("text") ? "text" : nullptr;
    if (text_key != nullptr && j.contains("messages")) {
      return Error{"give either a prompt or messages, not both"};
    }
    if (text_key != nullptr) {
      if (!j[text_key].is_string())
        return Error{std::string("\"") + text_key + "\" must be a string"};
      p.text = j[text_key].get<std::string>();
    } else if (j.contains("messages")) {
      auto ms = read_messages(j["messages"]);
      if (!ms) return Error{ms.error()};
      p.messages = std::move(*ms);
    } else {
      return Error{"expected \"prompt\", \"text\" or \"messages\""};
    }
    if (j.contains("max_tokens")) {
      const json& mt = j["max_tokens"];
      if (!mt.is_number_integer() || mt.get<int64_t>() < 1) {
        return Error{"\"max_tokens\" must be a positive integer"};
      }
      p.max_tokens = mt.get<int64_t>();
    }
  } else {
    return Error{
        "expected a string, a messages array or an object with \"prompt\" or \"messages\""};
  }
  if (p.messages.empty() && p.text.empty()) return Error{"empty prompt"};
  auto labels = read_row_labels(j);
  if (!labels) return Error{labels.error()};
  p.labels = std::move(*labels);
  return p;
}

// A conversation: a messages array (or {"messages": [...]}) or {"turns": [{user, reply}]}.
// A leading system message is kept in `text` (the conversation's own system prompt).
Expected<InlinePrompt> jsonl_conversation(const json& j) {
  InlinePrompt p;
  if (j.is_object() && j.contains("turns")) {
    const json& ts = j["turns"];
    if (!ts.is_array() || ts.empty()) return Error{"\"turns\" must be a non-empty array"};
    for (const json& t : ts) {
      if (!t.is_object() || !t.contains("user") || !t["user"].is_string()) {
        return Error{"each turn needs \"user\" (string) and optionally \"reply\""};
      }
      Turn turn{t["user"], ""};
      if (t.contains("reply")) {
        if (!t["reply"].is_string()) return Error{"\"reply\" must be a string"};
        turn.recorded_reply = t["reply"];
      }
      p.turns.push_back(std::move(turn));
    }
    auto labels = read_row_labels(j);
    if (!labels) return Error{labels.error()};
    p.labels = std::move(*labels);
    return p;
  }
  const json* arr = &j;
  if (j.is_object() && j.contains("messages")) arr = &j["messages"];
  auto ms = read_messages(*arr);
  if (!ms) return Error{ms.error()};
  for (size_t i = 0; i < ms->size(); ++i) {
    const Message& m = (*ms)[i];
    if (m.role == "system") {
      if (i != 0) return Error{"a system message may only come first"};
      p.text = m.content;
    } else if (m.role == "user") {
      p.turns.push_back({m.content, ""});
    } else {
      if (p.turns.empty() || !p.turns.back().recorded_reply.empty()) {
        return Error{"messages[" + std::to_string(i) +
                     "]: an assistant reply must follow a user message"};
      }
      p.turns.back().recorded_reply = m.content;
    }
  }
  if (p.turns.empty()) return Error{"no user message"};
  auto labels = read_row_labels(j);
  if (!labels) return Error{labels.error()};
  p.labels = std::move(*labels);
  return p;
}

Expected<std::vector<InlinePrompt>> read_jsonl(const PromptSource& src, bool conversations) {
  std::ifstream in(src.file, std::ios::binary);
  if (!in) return Error{src.file + ": cannot open the prompt file"};
  std::vector<InlinePrompt> out;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.size() > kMaxLineBytes)
      return Error{where(src.file, lineno) + "line longer than 16 MiB"};
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      return Error{where(src.file, lineno) + "not valid JSON (each line must be one JSON value)"};
    }
    auto p = conversations ? jsonl_conversation(j) : jsonl_prompt(j);
    if (!p) return Error{where(src.file, lineno) + p.error()};
    out.push_back(std::move(*p));
    if (src.limit > 0 && out.size() >= size_t(src.limit)) break;
  }
  if (out.empty()) return Error{src.file + ": no prompts (the file holds only blank lines)"};
  return out;
}

Expected<std::vector<InlinePrompt>> read_sharegpt(const PromptSource& src) {
  std::shared_ptr<const Tokenizer> tok;
  if (src.output_from_reply && !src.tokenizer.empty()) {
    auto t = shared_tokenizer(src.tokenizer);
    if (!t) return Error{"prompts.tokenizer: " + t.error()};
    tok = *t;
  }
  std::ifstream in(src.file, std::ios::binary);
  if (!in) return Error{src.file + ": cannot open the prompt file"};
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    const size_t byte = std::min<size_t>(e.byte, text.size());
    const size_t line = 1 + std::count(text.begin(), text.begin() + byte, '\n');
    return Error{where(src.file, line) + "not valid JSON (a ShareGPT file is one JSON array)"};
  }
  if (!j.is_array()) {
    return Error{src.file +
                 ": not a ShareGPT file: expected a JSON array of {\"conversations\": [...]}"};
  }
  std::vector<InlinePrompt> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    const std::string at = src.file + ": entry " + std::to_string(i) + ": ";
    if (!e.is_object() || !e.contains("conversations") || !e["conversations"].is_array()) {
      return Error{at + "expected an object with a \"conversations\" array"};
    }
    const json& conv = e["conversations"];
    InlinePrompt p;
    bool found = false;
    for (size_t k = 0; k < conv.size(); ++k) {
      const json& t = conv[k];
      if (!t.is_object() || !t.contains("from") || !t.contains("value") || !t["from"].is_string() ||
          !t["value"].is_string()) {
        return Error{at + "conversations[" + std::to_string(k) +
                     "]: expected {\"from\", \"value\"}"};
      }
      const std::string from = t["from"];
      if (!found && (from == "human" || from == "user")) {
        p.text = t["value"];
        found = !p.text.empty();
        if (found && src.output_from_reply && k + 1 < conv.size() && conv[k + 1].is_object() &&
            conv[k + 1].contains("value") && conv[k + 1]["value"].is_string()) {
          const std::string reply = conv[k + 1]["value"].get<std::string>();
          // In the tokenizer's tokens when the scenario names one (prompts.tokenizer).
          const int64_t n = tok ? static_cast<int64_t>(tok->count(reply)) : estimate_tokens(reply);
          if (n > 0) p.max_tokens = n;
        }
        if (found) break;
      }
    }
    if (!found) continue;  // no human turn: nothing to send (counted as skipped)
    out.push_back(std::move(p));
    if (src.limit > 0 && out.size() >= size_t(src.limit)) break;
  }
  if (out.empty()) return Error{src.file + ": no usable conversation (none has a human turn)"};
  return out;
}

}  // namespace

Expected<std::vector<InlinePrompt>> load_prompt_entries(const PromptSource& src) {
  switch (src.kind) {
    case PromptSourceKind::kSynthetic:
      return std::vector<InlinePrompt>{};
    case PromptSourceKind::kInline:
      return src.items;
    case PromptSourceKind::kJsonl:
      return read_jsonl(src, false);
    case PromptSourceKind::kShareGpt:
      return read_sharegpt(src);
    case PromptSourceKind::kConversations: {
      if (src.file.empty()) return src.items;
      return read_jsonl(src, true);
    }
  }
  return Error{"unknown prompt source"};
}

}  // namespace llmload
