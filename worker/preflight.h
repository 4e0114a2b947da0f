// Pre-flight (DESIGN.md "How a run starts and ends"): before any load, check every target
// without generating tokens, by the probe of its API's descriptor (common/api.h): OpenAI-style
// APIs: GET {base}/v1/models, then GET /health if that path is not there; Ollama: GET
// /api/tags; Anthropic: a TCP connect and the TLS handshake. Unreachable (refused, DNS, timeout), a
// TLS failure, or 401/403 is a failure naming the target (its URL; header values are never shown).
// Any other HTTP status proves the target reachable. A model the server does not list is a warning,
// never a failure.
//
// Blocking: run_preflight runs its own short-lived uv loop on the calling thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/api.h"
#include "common/metrics.h"
#include "common/scenario.h"
#include "worker/http_request.h"
#include "worker/tls_context.h"

namespace llmload::worker {

struct PreflightTarget {
  std::string url;                  // base URL, scheme://host[:port][/prefix]
  Api api = Api::kOpenAiChat;       // its descriptor's probe is what is tried
  std::string model;                // checked against the server's list ("" = not checked)
  std::vector<HttpHeader> headers;  // sent with the probe (e.g. Authorization)
  TlsOptions tls;
};

struct PreflightCheck {
  std::string target;  // the URL as shown to users (no secrets)
  bool ok = false;
  std::optional<ErrorKind> error;     // set when !ok and the failure has a kind
  std::string message;                // when !ok: "pre-flight failed for target URL: why"
  std::vector<std::string> warnings;  // e.g. the model is not in the server's list
  int status = 0;                     // the last HTTP status seen (0: none)
  std::string probe;                  // what was tried: "GET /v1/models", "connect", ...
};

// Checks every target concurrently; each gets at most `timeout_ns`. Results in input order.
std::vector<PreflightCheck> run_preflight(const std::vector<PreflightTarget>& targets,
                                          int64_t timeout_ns);

// The Worker's pre-flight over a scenario's targets: run_preflight with each target's URL, API,
// first model, headers and TLS options, under the largest connect timeout of the targets.
struct PreflightVerdict {
  bool ok = true;
  std::string error;  // every failed target, one per line
  std::vector<std::string> warnings;
};

PreflightVerdict preflight_scenario(const Scenario& scenario);
// What pre-flight probes for a scenario's target: its URL, API, first model, headers and TLS.
PreflightTarget preflight_target(const Target& t);

}  // namespace llmload::worker
