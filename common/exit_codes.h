// Process exit codes: a public API (README.md, DESIGN.md). CI pipelines branch on them.
#pragma once

namespace llmload {

enum ExitCode : int {
  kExitOk = 0,          // completed, every assertion passed
  kExitInternal = 1,    // internal error
  kExitUsage = 2,       // usage or configuration invalid, or pre-flight failed: no load sent
  kExitAssertion = 3,   // an assertion failed (compare --fail-on: a regression)
  kExitAborted = 4,     // aborted: a signal, or an abort-on-fail assertion
  kExitIncomplete = 5,  // workers lost, or not one request succeeded
};

// When several hold, the first in the order 1, 2, 4, 5, 3 wins.
inline int exit_code_priority(int code) {
  switch (code) {
    case kExitInternal:
      return 0;
    case kExitUsage:
      return 1;
    case kExitAborted:
      return 2;
    case kExitIncomplete:
      return 3;
    case kExitAssertion:
      return 4;
    default:
      return 5;
  }
}

inline int combine_exit_codes(int a, int b) {
  return exit_code_priority(a) <= exit_code_priority(b) ? a : b;
}

}  // namespace llmload
