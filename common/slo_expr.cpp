#include "common/slo_expr.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace llmload {

namespace {

constexpr std::array<std::string_view, 15> kMetrics = {
    "ttft",     "ttfo",       "ttfb",          "itl",          "tpot",
    "e2e",      "connect",    "tls",           "queue",        "ttft_sent",
    "e2e_sent", "decode_tps", "output_tokens", "input_tokens", "wait"};
constexpr std::array<std::string_view, 12> kTimeMetrics = {
    "ttft",    "ttfo", "ttfb",  "itl",       "tpot",     "e2e",
    "connect", "tls",  "queue", "ttft_sent", "e2e_sent", "wait"};
constexpr std::array<std::string_view, 10> kStats = {"count", "min", "mean", "stddev", "p50",
                                                     "p90",   "p95", "p99",  "p999",   "max"};
constexpr std::array<std::string_view, 19> kTotals = {"requests",
                                                      "ok",
                                                      "failed",
                                                      "error_rate",
                                                      "rate_limited",
                                                      "requests_per_s",
                                                      "output_tokens_per_s",
                                                      "goodput_per_s",
                                                      "goodput_ratio",
                                                      "retries",
                                                      "input_tokens",
                                                      "output_tokens",
                                                      "cost_usd",
                                                      "dropped",
                                                      "dropped_ratio",
                                                      "client_cancelled",
                                                      "inputs",
                                                      "inputs_per_s",
                                                      "input_tokens_per_s"};
constexpr std::array<std::string_view, 4> kClientVars = {
    "client.saturated", "client.loop_lag", "client.cpu_busy", "client.timing_uncertain_share"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& a, std::string_view s) {
  for (std::string_view x : a)
    if (x == s) return true;
  return false;
}


bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '/' || c == '@';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Expected<SloAssertion> parse() {
    SloAssertion a;
    a.text = std::string(trimmed());
    skip_ws();
    if (at_end()) return fail("empty expression");
    parse_group(a);
    if (!err_.empty()) return Error{err_};
    skip_ws();
    const size_t var_pos = i_;
    std::string var;
    while (!at_end() && (std::isalnum(uc(t_[i_])) || t_[i_] == '_' || t_[i_] == '.'))
      var += t_[i_++];
    if (var.empty()) return fail("expected a variable such as ttft.p99 or error_rate");
    if (!classify(a, var, var_pos)) return Error{err_};
    skip_ws();
    const size_t op_pos = i_;
    if (!parse_op(a)) return fail_at(op_pos, "expected an operator (<, <=, >, >=, ==, !=)");
    skip_ws();
    const size_t num_pos = i_;
    size_t j = i_;
    if (j < t_.size() && (t_[j] == '-' || t_[j] == '+')) ++j;
    while (j < t_.size() && (std::isdigit(uc(t_[j])) || t_[j] == '.')) ++j;
    // An exponent (1e9, 2.5E-3): 'e' is no unit, so it cannot be mistaken for one.
    if (j < t_.size() && (t_[j] == 'e' || t_[j] == 'E')) {
      size_t k = j + 1;
      if (k < t_.size() && (t_[k] == '-' || t_[k] == '+')) ++k;
      if (k < t_.size() && std::isdigit(uc(t_[k]))) {
        j = k;
        while (j < t_.size() && std::isdigit(uc(t_[j]))) ++j;
      }
    }
    const std::string num(t_.substr(i_, j - i_));
    char* end = nullptr;
    const double v = num.empty() ? 0 : std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(v)) {
      return fail_at(num_pos, "expected a number");
    }
    i_ = j;
    const size_t unit_pos = i_;
    std::string unit;
    while (!at_end() && (std::isalpha(uc(t_[i_])) || t_[i_] == '%')) unit += t_[i_++];
    if (!apply_unit(a, v, unit, unit_pos)) return Error{err_};
    skip_ws();
    if (!at_end()) {
      const size_t kw_pos = i_;
      std::string kw;
      while (!at_end() && !std::isspace(uc(t_[i_]))) kw += t_[i_++];
      if (kw != "abort_on_fail") {
        return fail_at(kw_pos,
                       "unexpected '" + kw + "' (only 'abort_on_fail' may follow the value)");
      }
      a.abort_on_fail = true;
      skip_ws();
      if (!at_end()) return fail("unexpected text after 'abort_on_fail'");
    }
    return a;
  }

 private:
  static unsigned char uc(char c) { return static_cast<unsigned char>(c); }
  bool at_end() const { return i_ >= t_.size(); }
  void skip_ws() {
    while (!at_end() && std::isspace(uc(t_[i_]))) ++i_;
  }
  std::string_view trimmed() const {
    size_t b = 0, e = t_.size();
    while (b < e && std::isspace(uc(t_[b]))) ++b;
    while (e > b && std::isspace(uc(t_[e - 1]))) --e;
    return t_.substr(b, e - b);
  }
  Error fail(const std::string& what) { return fail_at(i_, what); }
  Error fail_at(size_t pos, const std::string& what) {
    set_err(pos, what);
    return Error{err_};
  }
  void set_err(size_t pos, const std::string& what) {
    if (err_.empty()) {
      err_ = "column " + std::to_string(pos + 1) + ": " + what + " in '" + std::string(t_) + "'";
    }
  }

  // `key=value:` at the front, if there is one (a '=' not part of '==' before any operator).
  void parse_group(SloAssertion& a) {
    size_t j = i_;
    while (j < t_.size() &&
           (std::isalnum(uc(t_[j])) || t_[j] == '_' || t_[j] == '-' || t_[j] == '.'))
      ++j;
    if (j == i_ || j >= t_.size() || t_[j] != '=' || (j + 1 < t_.size() && t_[j + 1] == '='))
      return;
    SloGroupSelector g;
    g.key = std::string(t_.substr(i_, j - i_));
    i_ = j + 1;
    const size_t value_pos = i_;
    if (!at_end() && (t_[i_] == '"' || t_[i_] == '\'')) {
      const char q = t_[i_++];
      const size_t close = t_.find(q, i_);
      if (close == std::string_view::npos) return set_err(value_pos, "unterminated quote");
      g.value = std::string(t_.substr(i_, close - i_));
      i_ = close + 1;
      if (at_end() || t_[i_] != ':') return set_err(i_, "expected ':' after the group selector");
      ++i_;
    } else {
      // Unquoted: runs to the first ':' followed by a space or the end (values like llama3:8b).
      size_t k = i_;
      while (k < t_.size() &&
             !(t_[k] == ':' && (k + 1 == t_.size() || std::isspace(uc(t_[k + 1]))))) {
        if (!is_word_char(t_[k]) && t_[k] != ':') {
          return set_err(k,
                         "unexpected character in group value (quote it, or end the selector "
                         "with ': ')");
        }
        ++k;
      }
      if (k >= t_.size())
        return set_err(value_pos, "group selector without ':' (write key=value: expr)");
      g.value = std::string(t_.substr(i_, k - i_));
      i_ = k + 1;
    }
    if (g.value.empty()) return set_err(value_pos, "empty group value");
    a.group = std::move(g);
  }

  bool classify(SloAssertion& a, const std::string& var, size_t pos) {
    if (var.rfind("client.", 0) == 0) {
      if (!contains(kClientVars, var)) {
        set_err(pos, "unknown variable '" + var +
                         "' (client.saturated, client.loop_lag, client.cpu_busy, "
                         "client.timing_uncertain_share)");
        return false;
      }
      if (a.group) {
        set_err(pos, "'" + var + "' describes the whole run: it takes no group selector");
        return false;
      }
      a.kind = SloVarKind::kClient;
      a.metric = var;
      return true;
    }
    const size_t dot = var.rfind('.');
    if (dot == std::string::npos) {
      if (!contains(kTotals, var)) {
        set_err(pos, contains(kMetrics, var)
                         ? "'" + var + "' needs a statistic (e.g. " + var + ".p99)"
                         : "unknown variable '" + var + "'");
        return false;
      }
      a.kind = SloVarKind::kTotal;
      a.metric = var;
      return true;
    }
    const std::string metric = var.substr(0, dot);
    const std::string stat = var.substr(dot + 1);
    if (!contains(kMetrics, metric) && metric.rfind("server.", 0) != 0) {
      set_err(pos, "unknown metric '" + metric + "'");
      return false;
    }
    if (!contains(kStats, stat)) {
      set_err(pos + dot + 1, "unknown statistic '" + stat +
                                 "' (count, min, mean, stddev, p50, p90, p95, p99, "
                                 "p999, max)");
      return false;
    }
    a.kind = SloVarKind::kMetricStat;
    a.metric = metric;
    a.stat = stat;
    return true;
  }

  bool parse_op(SloAssertion& a) {
    auto two = [&](const char* s) { return t_.substr(i_, 2) == s; };
    if (two("<="))
      a.op = SloOp::kLe, i_ += 2;
    else if (two(">="))
      a.op = SloOp::kGe, i_ += 2;
    else if (two("=="))
      a.op = SloOp::kEq, i_ += 2;
    else if (two("!="))
      a.op = SloOp::kNe, i_ += 2;
    else if (!at_end() && t_[i_] == '<')
      a.op = SloOp::kLt, ++i_;
    else if (!at_end() && t_[i_] == '>')
      a.op = SloOp::kGt, ++i_;
    else
      return false;
    return true;
  }

  bool apply_unit(SloAssertion& a, double v, const std::string& unit, size_t pos) {
    a.unit_as_written = unit;
    const bool server = a.metric.rfind("server.", 0) == 0;
    const bool time = slo_is_time(a);
    double ms_scale = 0;
    if (unit == "ns")
      ms_scale = 1e-6;
    else if (unit == "us")
      ms_scale = 1e-3;
    else if (unit == "ms")
      ms_scale = 1;
    else if (unit == "s")
      ms_scale = 1e3;
    else if (unit == "m")
      ms_scale = 60e3;
    else if (unit == "h")
      ms_scale = 3600e3;
    if (unit.empty()) {
      if (time) {
        set_err(pos, "'" + a.variable() + "' is a time: give a unit (ms, s, ...)");
        return false;
      }
      a.value = v;
      return true;
    }
    if (unit == "%") {
      if (slo_is_share(a)) {
        a.value = v / 100.0;
        return true;
      }
      set_err(pos,
              "'%' applies only to error_rate, goodput_ratio, dropped_ratio, client.cpu_busy "
              "and client.timing_uncertain_share");
      return false;
    }
    if (ms_scale == 0) {
      set_err(pos, "unknown unit '" + unit + "' (ns, us, ms, s, m, h or %)");
      return false;
    }
    if (!time && !(server && a.stat != "count")) {
      set_err(pos, "'" + a.variable() + "' is not a time: no unit '" + unit + "'");
      return false;
    }
    a.value = v * ms_scale;
    return true;
  }

  std::string_view t_;
  size_t i_ = 0;
  std::string err_;
};

}  // namespace

bool slo_is_time_metric(std::string_view metric) {
  return contains(kTimeMetrics, metric);
}

bool slo_is_time(const SloAssertion& a) {
  if (a.kind == SloVarKind::kClient) return a.metric == "client.loop_lag";
  return a.kind == SloVarKind::kMetricStat && a.stat != "count" && slo_is_time_metric(a.metric);
}

bool slo_is_share(const SloAssertion& a) {
  if (a.kind == SloVarKind::kClient)
    return a.metric == "client.cpu_busy" || a.metric == "client.timing_uncertain_share";
  return a.kind == SloVarKind::kTotal &&
         (a.metric == "error_rate" || a.metric == "goodput_ratio" || a.metric == "dropped_ratio");
}

std::string_view slo_op_text(SloOp op) {
  switch (op) {
    case SloOp::kLt:
      return "<";
    case SloOp::kLe:
      return "<=";
    case SloOp::kGt:
      return ">";
    case SloOp::kGe:
      return ">=";
    case SloOp::kEq:
      return "==";
    case SloOp::kNe:
      return "!=";
  }
  return "?";
}

bool SloAssertion::holds(double observed) const {
  switch (op) {
    case SloOp::kLt:
      return observed < value;
    case SloOp::kLe:
      return observed <= value;
    case SloOp::kGt:
      return observed > value;
    case SloOp::kGe:
      return observed >= value;
    case SloOp::kEq:
      return observed == value;
    case SloOp::kNe:
      return observed != value;
  }
  return false;
}

Expected<SloAssertion> parse_slo_expr(std::string_view text) {
  return Parser(text).parse();
}

}  // namespace llmload
