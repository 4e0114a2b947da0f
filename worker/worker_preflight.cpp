#include "worker/worker_preflight.h"

#include <algorithm>

#include "worker/preflight.h"

namespace llmload::worker {

PreflightVerdict preflight_scenario(const Scenario& s) {
  std::vector<PreflightTarget> targets;
  int64_t timeout = 0;
  for (const Target& t : s.targets) {
    PreflightTarget p;
    p.url = t.url;
    p.api = std::string(api_name(t.api));
    if (!t.models.empty()) p.model = t.models.front().name;
    for (const auto& h : t.headers) p.headers.push_back(HttpHeader{h.name, h.value});
    p.tls.insecure = t.tls.insecure;
    p.tls.ca_file = t.tls.ca_file;
    p.tls.cert_file = t.tls.cert_file;
    p.tls.key_file = t.tls.key_file;
    targets.push_back(std::move(p));
    timeout = std::max(timeout, t.timeouts.connect_ns);
  }
  PreflightVerdict v;
  for (const PreflightCheck& r : run_preflight(targets, timeout > 0 ? timeout : 10'000'000'000)) {
    for (const std::string& w : r.warnings) v.warnings.push_back(w);
    if (!r.ok) {
      v.ok = false;
      if (!v.error.empty()) v.error += "\n";
      v.error += r.message;
    }
  }
  return v;
}

}  // namespace llmload::worker
