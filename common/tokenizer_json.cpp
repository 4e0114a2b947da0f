// Reading a Hugging Face tokenizer.json of the byte-level BPE family (tokenizer.h): model
// (BPE vocab, merges, ignore_merges), pre_tokenizer (Split / ByteLevel / Digits, alone or in
// a Sequence), normalizer (none or NFC) and added_tokens. Everything else (post_processor,
// decoder, padding, truncation) does not change the ids of a text and is ignored.
#include <nlohmann/json.hpp>

#include "common/tokenizer.h"
#include "common/tokenizer_builder.h"

namespace llmload {

namespace {

using nlohmann::json;

// Bounds checked before parsing, so a hostile file cannot make the JSON tree huge or deep.
constexpr size_t kJsonDepthMax = 64;
constexpr size_t kJsonValuesMax = size_t{6} << 20;

std::string prescan(std::string_view text) {
  size_t depth = 0, values = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kJsonDepthMax) return "nested deeper than 64 levels";
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (c == ',' || c == ':') {
      if (++values > kJsonValuesMax) return "more than 6 million values";
    }
  }
  return "";
}

// A PCRE2 pattern matching `literal` exactly.
std::string quote_literal(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

struct Loader {
  std::string where;
  TokenizerBuilder b;
  bool byte_level = false;

  Error fail(const std::string& field, const std::string& what) const {
    return Error{where + ": " + field + ": " + what};
  }

  std::string string_field(const json& obj, const char* key) const {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  bool bool_field(const json& obj, const char* key, bool dflt) const {
    auto it = obj.find(key);
    return it != obj.end() && it->is_boolean() ? it->get<bool>() : dflt;
  }

  std::string add_step(const json& p, const std::string& field) {
    if (!p.is_object()) return field + ": not an object";
    const std::string type = string_field(p, "type");
    PreTokenizer::Step step;
    if (type == "Sequence") {
      auto it = p.find("pretokenizers");
      if (it == p.end() || !it->is_array()) return field + ".pretokenizers: not a list";
      for (size_t i = 0; i < it->size(); ++i) {
        std::string err = add_step((*it)[i], field + ".pretokenizers[" + std::to_string(i) + "]");
        if (!err.empty()) return err;
      }
      return "";
    }
    std::string pattern;
    if (type == "ByteLevel") {
      byte_level = true;
      step.add_prefix_space = bool_field(p, "add_prefix_space", false);
      if (bool_field(p, "use_regex", true)) pattern = kPatternGpt2;
    } else if (type == "Split") {
      const std::string behavior = string_field(p, "behavior");
      if (behavior != "Isolated")
        return field + ".behavior: '" + behavior + "' is not supported (only Isolated)";
      if (bool_field(p, "invert", false)) return field + ".invert: true is not supported";
      auto pat = p.find("pattern");
      if (pat == p.end() || !pat->is_object()) return field + ".pattern: missing";
      if (pat->contains("Regex") && (*pat)["Regex"].is_string())
        pattern = (*pat)["Regex"].get<std::string>();
      else if (pat->contains("String") && (*pat)["String"].is_string())
        pattern = quote_literal((*pat)["String"].get<std::string>());
      else
        return field + ".pattern: needs a Regex or String";
      if (pattern.empty()) return field + ".pattern: empty";
    } else if (type == "Digits") {
      pattern = bool_field(p, "individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)";
    } else {
      return field + ".type: '" + type +
             "' is not supported (byte-level BPE: Split, ByteLevel, Digits, Sequence)";
    }
    if (!pattern.empty()) {
      auto sp = SplitPattern::compile(pattern);
      if (!sp) return field + ".pattern: " + sp.error();
      step.pattern = std::make_unique<SplitPattern>(std::move(*sp));
    }
    b.pre().steps.push_back(std::move(step));
    return "";
  }

  Expected<bool> read_model(const json& m) {
    if (!m.is_object()) return fail("model", "missing or not an object");
    const std::string type = string_field(m, "type");
    if (!type.empty() && type != "BPE")
      return fail("model.type", "'" + type + "' is not supported (byte-level BPE only)");
    if (!string_field(m, "continuing_subword_prefix").empty() ||
        !string_field(m, "end_of_word_suffix").empty())
      return fail("model", "continuing_subword_prefix/end_of_word_suffix are not supported");
    auto dropout = m.find("dropout");
    if (dropout != m.end() && dropout->is_number() && dropout->get<double>() > 0)
      return fail("model.dropout", "dropout is not supported (ids would be random)");
    b.set_whole_word_lookup(bool_field(m, "ignore_merges", false));

    auto vocab = m.find("vocab");
    if (vocab == m.end() || !vocab->is_object())
      return fail("model.vocab", "missing or not an object");
    std::string bytes;
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it.value().is_number_unsigned())
        return fail("model.vocab", "'" + it.key().substr(0, 64) + "': id is not a whole number");
      const uint64_t id = it.value().get<uint64_t>();
      if (id >= kTokenizerIdMax)
        return fail("model.vocab", "'" + it.key().substr(0, 64) + "': id " + std::to_string(id) +
                                       " is over the limit 2^21");
      // A token outside the byte-level alphabet (a special token written plainly) is kept for
      // decoding only.
      const bool encodable = byte_level_decode(it.key(), bytes);
      const std::string err =
          b.model().add_token(encodable ? bytes : it.key(), static_cast<uint32_t>(id), encodable);
      if (!err.empty()) return fail("model.vocab", err);
    }
    const std::string err = b.model().finish();
    if (!err.empty()) return fail("model.vocab", err + " (not a byte-level vocabulary)");

    auto merges = m.find("merges");
    if (merges == m.end() || !merges->is_array())
      return fail("model.merges", "missing or not a list");
    std::string left, right;
    for (size_t i = 0; i < merges->size(); ++i) {
      const json& e = (*merges)[i];
      const std::string field = "model.merges[" + std::to_string(i) + "]";
      std::string a, c;
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= s.size())
          return fail(field, "expected 'left right'");
        a = s.substr(0, sp);
        c = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>();
        c = e[1].get<std::string>();
      } else {
        return fail(field, "expected 'left right' or [left, right]");
      }
      if (!byte_level_decode(a, left) || !byte_level_decode(c, right))
        return fail(field, "not in the byte-level alphabet");
      const int64_t l = b.model().find(left), r = b.model().find(right);
      const int64_t res = b.model().find(left + right);
      if (l < 0 || r < 0) return fail(field, "a side is not in model.vocab");
      if (res < 0) return fail(field, "the merged token is not in model.vocab");
      b.model().add_merge(static_cast<uint32_t>(l), static_cast<uint32_t>(r),
                          static_cast<uint32_t>(i), static_cast<uint32_t>(res));
    }
    return true;
  }

  Expected<bool> read_added(const json& root) {
    auto added = root.find("added_tokens");
    if (added == root.end() || added->is_null()) return true;
    if (!added->is_array()) return fail("added_tokens", "not a list");
    for (size_t i = 0; i < added->size(); ++i) {
      const json& t = (*added)[i];
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_unsigned() ||
          !t.contains("content") || !t["content"].is_string())
        return fail(field, "needs a whole-number id and a string content");
      const uint64_t id = t["id"].get<uint64_t>();
      if (id >= kTokenizerIdMax) return fail(field, "id over the limit 2^21");
      AddedTokens::Token tok{t["content"].get<std::string>(), static_cast<uint32_t>(id),
                             bool_field(t, "lstrip", false), bool_field(t, "rstrip", false)};
      if (tok.content.empty()) return fail(field, "empty content");
      if (tok.content.size() > kTokenizerTokenBytesMax) return fail(field, "content over 1 KiB");
      if (b.model().bytes_of(tok.id).empty()) {
        const std::string err = b.model().add_token(tok.content, tok.id, false);
        if (!err.empty()) return fail(field, err);
      }
      b.added().add(std::move(tok));
    }
    return true;
  }
};

}  // namespace

Expected<std::shared_ptr<const Tokenizer>> Tokenizer::from_tokenizer_json(std::string_view text,
                                                                          const std::string& name) {
  Loader ld;
  ld.where = "tokenizer '" + name + "'";
  if (text.size() > kTokenizerFileMax) return Error{ld.where + ": over the 64 MiB limit"};
  const std::string bad = prescan(text);
  if (!bad.empty()) return Error{ld.where + ": " + bad};
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Error{ld.where + ": not valid JSON"};
  if (!root.is_object()) return Error{ld.where + ": not a JSON object"};
  ld.b.set_kind("tokenizer.json");

  auto norm = root.find("normalizer");
  if (norm != root.end() && !norm->is_null()) {
    // NFC leaves text that is already composed (nearly all prompt text) unchanged; it is
    // accepted and not applied (docs/scenarios.md "Tokenizer").
    const std::string type = norm->is_object() ? ld.string_field(*norm, "type") : "";
    if (type != "NFC")
      return ld.fail("normalizer", "'" + type + "' is not supported (none or NFC)");
  }
  auto model = root.find("model");
  auto ok = ld.read_model(model == root.end() ? json() : *model);
  if (!ok) return Error{ok.error()};
  auto pre = root.find("pre_tokenizer");
  if (pre != root.end() && !pre->is_null()) {
    const std::string err = ld.add_step(*pre, "pre_tokenizer");
    if (!err.empty()) return Error{ld.where + ": " + err};
  }
  if (!ld.byte_level)
    return ld.fail("pre_tokenizer", "no ByteLevel step: not a byte-level BPE tokenizer");
  auto added = ld.read_added(root);
  if (!added) return Error{added.error()};
  return std::shared_ptr<const Tokenizer>(ld.b.t);
}

}  // namespace llmload
