#include "cli/override_flags.h"

#include "common/api.h"

namespace llmload::cli {

namespace {

template <class T>
void optional_flag(CLI::App* sub, const char* name, std::optional<T>& field,
                   const std::string& help) {
  sub->add_option_function<T>(
         name, [&field](const T& v) { field = v; }, help)
      ->type_name(std::is_same_v<T, std::string> ? "TEXT" : "NUM");
}

}  // namespace

void add_override_flags(CLI::App* sub, Overrides& o, bool load_levels) {
  optional_flag(sub, "--target", o.target, "server base URL, or mock (the built-in mock)");
  optional_flag(sub, "--api", o.api, api_name_list());
  optional_flag(sub, "--model", o.model, "the model of every target");
  if (load_levels) {
    optional_flag(sub, "--concurrency", o.concurrency,
                  "concurrency mode with N in flight (replaces the load shape)");
    optional_flag(sub, "--rate", o.rate, "rate mode at R requests/s (replaces the load shape)");
  }
  optional_flag(sub, "--duration", o.duration, "measured window, e.g. 60s (replaces both limits)");
  optional_flag(sub, "--requests", o.requests, "measured requests (replaces both limits)");
  optional_flag(sub, "--warmup", o.warmup, "load run first and discarded, e.g. 10s");
  optional_flag(sub, "--grace", o.grace, "time for in-flight requests at the end (default 30s)");
  optional_flag(sub, "--interval", o.interval, "report interval (default 1s)");
  sub->add_option("--header", o.headers, "'Name: value' on every request (${VAR} expanded)")
      ->expected(1)
      ->take_all()
      ->type_name("TEXT");
  sub->add_flag("--insecure", o.insecure, "skip TLS certificate verification");
  optional_flag(sub, "--ca-file", o.ca_file, "PEM bundle to verify servers with");
  optional_flag(sub, "--target-metrics", o.target_metrics,
                "the target's Prometheus /metrics URL, scraped every interval (mock: the "
                "built-in mock's)");
  optional_flag(sub, "--wait-ready", o.wait_ready,
                "before pre-flight, wait up to this for every target to answer, e.g. 60s");
  optional_flag(sub, "--tokenizer", o.tokenizer,
                "tokenizer.json or .tiktoken file: prompt lengths in its tokens "
                "(prompts.tokenizer)");
  sub->add_option("--assert", o.asserts, "assertion, e.g. 'ttft.p99 < 2s' (repeatable)")
      ->expected(1)
      ->take_all()
      ->type_name("EXPR");
}

}  // namespace llmload::cli
