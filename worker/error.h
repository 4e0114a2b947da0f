// Connection-level failures, as values. The kinds are DESIGN.md's error taxonomy
// (common/metrics.h ErrorKind); this file says which connection event maps onto which kind:
//   ECONNREFUSED / EHOSTUNREACH / ENETUNREACH on connect -> kConnectRefused
//   the connect deadline passing                         -> kConnectTimeout
//   uv_getaddrinfo failing                               -> kDns
//   TLS handshake or certificate verification failing    -> kTls
//   ECONNRESET / EPIPE / other read or write errors      -> kReset
//   EOF before the chunked terminator / content-length,
//   or a TLS stream cut without close_notify             -> kTruncated
//   llhttp rejecting the response, or a header over its bound -> kProtocol
//   a deadline armed by the engine (HttpConnection::arm) -> the kind it was armed with
//     (the Request arms kCancelled for a scenario `cancel:` close: its own, client_cancelled)
//   cancel()                                             -> kCancelled (never reported upward)
// HTTP status kinds (http_4xx/429/5xx) are the engine's decision: the connection layer
// hands the status up and never turns it into an error itself.
#pragma once

#include <string>
#include <string_view>

#include "common/metrics.h"

namespace llmload::worker {

// One failure of a connection or of the request on it.
struct NetError {
  ErrorKind kind = ErrorKind::kProtocol;
  // True only when a request written on a reused keep-alive connection met the server's
  // close (EOF, ECONNRESET or EPIPE) before any response byte: the request is safe to send
  // again on a fresh connection, and the caller counts a retry, not an error.
  bool retryable = false;
  // Human-readable, names the peer; never contains header values or secrets.
  std::string message;
};

}  // namespace llmload::worker
