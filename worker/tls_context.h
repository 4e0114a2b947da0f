// TLS client configuration, built once per target and shared by every loop (an SSL_CTX is
// safe to share once configured): peer verification and hostname check on unless `insecure`,
// the system CA store or one given CA file, TLS >= 1.2, an optional client certificate (mTLS),
// ALPN http/1.1, SSL_MODE_RELEASE_BUFFERS, client session caching for resumption.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "common/expected.h"

namespace llmload::worker {

struct TlsOptions {
  bool insecure = false;  // skip certificate and hostname verification (recorded by the run)
  std::string ca_file;    // PEM CA bundle to trust instead of the system store ("" = system)
  std::string cert_file;  // client certificate chain (PEM) for mTLS
  std::string key_file;   // its private key (PEM); required with cert_file
};

class TlsContext {
 public:
  // Errors name the file at fault (never its contents).
  static Expected<std::shared_ptr<TlsContext>> create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  bool insecure() const { return insecure_; }

 private:
  TlsContext(SSL_CTX* ctx, bool insecure) : ctx_(ctx), insecure_(insecure) {}
  SSL_CTX* ctx_;
  bool insecure_;
};

// The last TLS session a target gave one loop, offered on the next handshake (resumption).
// One per target per loop; not thread-safe (it never needs to be).
class TlsSessionCache {
 public:
  TlsSessionCache() = default;
  ~TlsSessionCache();
  TlsSessionCache(const TlsSessionCache&) = delete;
  TlsSessionCache& operator=(const TlsSessionCache&) = delete;

  // Takes ownership of `session` (one reference), replacing any earlier one.
  void store(SSL_SESSION* session);
  // The session to offer, or nullptr (still owned by the cache).
  SSL_SESSION* get() const { return session_; }
  uint64_t stored() const { return stored_; }

 private:
  SSL_SESSION* session_ = nullptr;
  uint64_t stored_ = 0;
};

}  // namespace llmload::worker
