// The Worker's pre-flight: runs worker/preflight.h's checks over a scenario's targets. Its own
// translation unit because preflight.h's PreflightResult and worker.h's share a name.
#pragma once

#include <string>
#include <vector>

#include "common/scenario.h"

namespace llmload::worker {

struct PreflightVerdict {
  bool ok = true;
  std::string error;  // every failed target, one per line
  std::vector<std::string> warnings;
};

PreflightVerdict preflight_scenario(const Scenario& scenario);

}  // namespace llmload::worker
