#include "common/requests_jsonl.h"

#include <nlohmann/json.hpp>

namespace llmload {

std::string requests_jsonl_line(const RequestRow& r, const Labels& labels) {
  using nlohmann::ordered_json;
  auto ms = [](const std::optional<int64_t>& us) {
    return us ? ordered_json(double(*us) / 1000.0) : ordered_json();
  };
  auto count = [](const std::optional<int64_t>& v) { return v ? ordered_json(*v) : ordered_json(); };
  auto rate = [](const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(); };
  ordered_json l = ordered_json::object();
  for (const auto& [k, v] : labels) l[k] = v;
  const ServerFigures& sv = r.server;
  ordered_json j{{"request_id", r.request_id},
                 {"worker", r.worker},
                 {"group", r.group},
                 {"labels", std::move(l)},
                 {"prompt", r.prompt >= 0 ? ordered_json(r.prompt) : ordered_json()},
                 {"sent_unix_ns", count(r.sent_unix_ns)},
                 {"start_ms", double(r.start_us) / 1000.0},
                 {"queue_ms", ms(r.queue_us)},
                 {"wait_ms", ms(r.wait_us)},
                 {"connect_ms", ms(r.connect_us)},
                 {"tls_ms", ms(r.tls_us)},
                 {"ttfb_ms", ms(r.ttfb_us)},
                 {"ttft_ms", ms(r.ttft_us)},
                 {"ttfo_ms", ms(r.ttfo_us)},
                 {"e2e_ms", ms(r.e2e_us)},
                 {"input_tokens", count(r.input_tokens)},
                 {"output_tokens", r.output_tokens},
                 {"tokens_source", name(r.tokens_source)},
                 {"outcome", request_outcome(r)},
                 {"error_message", r.error ? ordered_json(r.error_message) : ordered_json()},
                 {"server",
                  {{"load_ms", ms(sv.load_us)},
                   {"prompt_tokens", count(sv.prompt_tokens)},
                   {"prompt_eval_ms", ms(sv.prompt_eval_us)},
                   {"output_tokens", count(sv.output_tokens)},
                   {"eval_ms", ms(sv.eval_us)},
                   {"total_ms", ms(sv.total_us)},
                   {"cached_tokens", count(sv.cached_tokens)},
                   {"prompt_tokens_per_s", rate(sv.prompt_tokens_per_s())},
                   {"eval_tokens_per_s", rate(sv.eval_tokens_per_s())},
                   {"wait_ms", ms(sv.wait_us)}}}};
  // `replace`: a stray invalid UTF-8 byte in a server's error message must not throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace llmload
