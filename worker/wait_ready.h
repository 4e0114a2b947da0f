// --wait-ready (DESIGN.md "How a run starts and ends"): before pre-flight, poll each target that
// asks for it (target.wait_ready) with its pre-flight probe until it is ready, up to its limit. CI
// starts the server and the test together: a model still loading must not fail the run.
//
// Ready: the probe got an answer below 500 (a 503 "loading model" is not ready), or a connect
// succeeded for a connect-only API. A 401/403 ends the wait at once: pre-flight reports it.
// Anything else (refused, DNS, timeout, TLS, 5xx) is waited out, one attempt about every second.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "worker/preflight.h"

namespace llmload::worker {

struct ReadyTarget {
  PreflightTarget target;
  int64_t wait_ns = 0;  // how long to wait for it (> 0)
};

struct ReadyVerdict {
  bool ok = true;
  std::string error;  // when !ok: one line per target never ready, naming it and the last reason
};

// One probe outcome as a readiness answer: "" when ready, else why not ("connection refused",
// "GET /health answered 503").
std::string not_ready_reason(const PreflightCheck& check);

// Polls every target concurrently until each is ready or its limit passes. `say` gets one line
// per attempt that failed: "waiting for URL (GET /v1/models): connection refused (3.0 s of
// 60.0 s)". Blocking, like run_preflight.
ReadyVerdict wait_until_ready(const std::vector<ReadyTarget>& targets,
                              const std::function<void(const std::string&)>& say);

// The scenario's targets with a wait_ready, as above (every target ready when none has one).
ReadyVerdict wait_until_ready(const Scenario& scenario,
                              const std::function<void(const std::string&)>& say);

}  // namespace llmload::worker
