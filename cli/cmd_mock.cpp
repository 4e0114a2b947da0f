// `llmload mock`: the built-in mock LLM server alone (docs/mock.md). Prints
// "llmload mock listening on URL" as its first stdout line, serves until SIGINT/SIGTERM, then
// prints its stats line on stderr and exits 0.
#include <signal.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/duration.h"
#include "common/exit_codes.h"
#include "mock/mock_server.h"

namespace llmload::cli {

namespace {

struct MockArgs {
  std::string ttft = "50ms", itl = "10ms", tokens = "64", prompt_per_token = "0s", load = "0s",
              cold_start = "0s", contention_itl = "0s";
  std::string usage = "chunk", over = "queue", faults, fault_delay = "2s", drip = "1ms";
  bool no_role_chunk = false;
  int port = 0;
};

bool duration_into(const std::string& flag, const std::string& text, int64_t& out) {
  auto d = parse_duration_ns(text);
  if (!d || *d < 0) {
    std::fprintf(stderr, "llmload mock: %s: %s\n", flag.c_str(),
                 d ? "must not be negative" : d.error().c_str());
    return false;
  }
  out = *d;
  return true;
}

int run_mock(mock::MockOptions o, const MockArgs& a) {
  if (a.port < 0 || a.port > 65535) {
    std::fprintf(stderr, "llmload mock: --port must be from 0 to 65535\n");
    return kExitUsage;
  }
  o.port = uint16_t(a.port);
  if (!duration_into("--ttft", a.ttft, o.ttft_ns) || !duration_into("--itl", a.itl, o.itl_ns) ||
      !duration_into("--prompt-per-token", a.prompt_per_token, o.prompt_ns_per_token) ||
      !duration_into("--load", a.load, o.load_ns) ||
      !duration_into("--cold-start", a.cold_start, o.cold_start_ns) ||
      !duration_into("--contention-itl", a.contention_itl, o.contention_itl_ns) ||
      !duration_into("--fault-delay", a.fault_delay, o.faults.delay_ns) ||
      !duration_into("--drip", a.drip, o.faults.drip_ns))
    return kExitUsage;
  auto dist = mock::TokenDistribution::parse(a.tokens);
  if (!dist) {
    std::fprintf(stderr, "llmload mock: --tokens: %s\n", dist.error().c_str());
    return kExitUsage;
  }
  o.tokens = *dist;
  if (o.cached_share > 1 || (o.cached_share < 0 && o.cached_share != -1)) {
    std::fprintf(stderr, "llmload mock: --cached-share must be from 0 to 1\n");
    return kExitUsage;
  }
  if (a.usage == "chunk")
    o.usage_mode = mock::UsageMode::kChunk;
  else if (a.usage == "final")
    o.usage_mode = mock::UsageMode::kFinal;
  else if (a.usage == "none")
    o.usage_mode = mock::UsageMode::kNone;
  else {
    std::fprintf(stderr, "llmload mock: --usage must be chunk, final or none, not '%s'\n",
                 a.usage.c_str());
    return kExitUsage;
  }
  if (a.over == "queue")
    o.over_capacity = mock::OverCapacity::kQueue;
  else if (a.over == "429")
    o.over_capacity = mock::OverCapacity::kReject429;
  else if (a.over == "503")
    o.over_capacity = mock::OverCapacity::kReject503;
  else {
    std::fprintf(stderr, "llmload mock: --over-capacity must be queue, 429 or 503, not '%s'\n",
                 a.over.c_str());
    return kExitUsage;
  }
  if (!a.faults.empty()) {
    auto k = o.faults.set_kinds(a.faults);
    if (!k) {
      std::fprintf(stderr, "llmload mock: %s\n", k.error().c_str());
      return kExitUsage;
    }
  }
  o.role_chunk = !a.no_role_chunk;

  // Signals are taken by sigwait here; the loop threads inherit the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  mock::MockServer server(o);
  auto started = server.start();
  if (!started) {
    std::fprintf(stderr, "llmload mock: %s\n", started.error().c_str());
    return kExitUsage;
  }
  std::printf("llmload mock listening on %s\n", server.base_url().c_str());
  if (o.tls) std::printf("llmload mock certificate %s\n", server.cert_file().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  server.stop();
  std::fprintf(stderr, "%s\n", server.stats_line().c_str());
  return kExitOk;
}

}  // namespace

void register_mock(CLI::App& app, int& exit_code) {
  CLI::App* sub = app.add_subcommand("mock", "Run the built-in mock LLM server (docs/mock.md)");
  auto o = std::make_shared<mock::MockOptions>();
  auto a = std::make_shared<MockArgs>();
  sub->add_option("--port", a->port, "TCP port (0: ephemeral)")->capture_default_str();
  sub->add_option("--host", o->host, "IPv4/IPv6 address to bind")->capture_default_str();
  sub->add_option("--threads", o->threads, "event loops (SO_REUSEPORT)")->capture_default_str();
  sub->add_option("--ttft", a->ttft, "time to first token")->capture_default_str();
  sub->add_option("--itl", a->itl, "gap between tokens")->capture_default_str();
  sub->add_option("--tokens", a->tokens,
                  "output tokens when the request sets none: N, uniform:LO:HI, normal:MEAN:SD, "
                  "exp:MEAN, lognormal:MEDIAN:SIGMA")
      ->capture_default_str();
  sub->add_option("--tokens-per-chunk", o->tokens_per_chunk, "tokens per streamed event")
      ->capture_default_str();
  sub->add_option("--prompt-per-token", a->prompt_per_token,
                  "prompt processing time per prompt token (added to TTFT)")
      ->capture_default_str();
  sub->add_option("--cold-start", a->cold_start,
                  "a cold server: the model loads on the first generation request and takes "
                  "this long; requests before it is loaded wait (their load_duration says so)")
      ->capture_default_str();
  sub->add_option("--load", a->load,
                  "model load time before the first token (Ollama load_duration)")
      ->capture_default_str();
  sub->add_option("--cached-share", o->cached_share,
                  "share of prompt tokens reported as prefix-cached, 0 to 1 (usage "
                  "prompt_tokens_details.cached_tokens, llama.cpp cache_n)");
  sub->add_option("--reasoning-tokens", o->reasoning_tokens, "reasoning tokens before content")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of token text and random choices")
      ->capture_default_str();
  sub->add_option("--model", o->model, "model name listed by /v1/models and /api/tags")
      ->capture_default_str();
  sub->add_flag("--no-role-chunk", a->no_role_chunk, "no role-only first chunk (OpenAI chat)");
  sub->add_option("--usage", a->usage,
                  "OpenAI usage: chunk (own chunk when include_usage), final (llama.cpp: on the "
                  "finish chunk), or none (no usage in any API's responses)")
      ->capture_default_str();
  sub->add_option("--max-body", o->max_body_bytes, "largest request body in bytes (else 413)")
      ->capture_default_str();
  sub->add_option("--max-streams", o->max_streams, "concurrent generations (0: unlimited)")
      ->capture_default_str();
  sub->add_option("--over-capacity", a->over, "beyond --max-streams: queue, 429 or 503")
      ->capture_default_str();
  sub->add_option("--contention-streams", o->contention_streams,
                  "knee for --contention-itl: streams generating at once before it applies")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--contention-itl", a->contention_itl,
                  "per-token gap added to a starting request per stream generating beyond "
                  "--contention-streams (0s: off)")
      ->capture_default_str();
  sub->add_option("--max-queue", o->max_queue, "queued requests beyond this get 503")
      ->capture_default_str();
  sub->add_option("--retry-after", o->retry_after_s, "Retry-After seconds on 429")
      ->capture_default_str();
  sub->add_option("--fault-rate", o->faults.rate, "probability of a fault per generation request")
      ->capture_default_str();
  sub->add_option("--faults", a->faults,
                  "faults to pick from at --fault-rate (comma list; default all)");
  sub->add_option("--fault-after", o->faults.after, "tokens before a mid-stream fault (-1: half)")
      ->capture_default_str();
  sub->add_option("--fault-delay", a->fault_delay, "slow_headers delay")->capture_default_str();
  sub->add_option("--drip", a->drip, "drip fault: gap between bytes")->capture_default_str();
  sub->add_option("--huge-line-bytes", o->faults.huge_line_bytes, "huge_line fault: line size")
      ->capture_default_str();
  sub->add_option("--truth", o->truth_file, "ground-truth log (JSONL, one line per request)");
  sub->add_flag("--truth-text", o->truth_text,
                "the truth log also holds each request's body and the answer text it streamed");
  sub->add_option("--metrics-extra", o->metrics_extra_file,
                  "Prometheus text appended to GET /metrics (pages split by a line "
                  "'# llmload-mock: next page', served in turn)");
  sub->add_flag("--tls", o->tls, "serve HTTPS");
  sub->add_option("--cert", o->cert_file, "PEM certificate (with --key); none: self-signed");
  sub->add_option("--key", o->key_file, "PEM private key");
  sub->add_option("--cert-out", o->cert_out_file, "where to write a generated certificate");
  sub->add_option("--backlog", o->backlog, "listen backlog (0: system maximum)")
      ->capture_default_str();
  sub->callback([&exit_code, o, a] { exit_code = run_mock(*o, *a); });
}

}  // namespace llmload::cli
