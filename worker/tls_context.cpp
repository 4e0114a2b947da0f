#include "worker/tls_context.h"

#include <openssl/err.h>

namespace llmload::worker {
namespace {

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// New-session callback: hand the session to the TlsSessionCache attached to the SSL.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* cache = static_cast<TlsSessionCache*>(SSL_get_app_data(ssl));
  if (cache == nullptr) return 0;  // not taken: OpenSSL frees it
  cache->store(session);
  return 1;  // we own the reference now
}

}  // namespace

Expected<std::shared_ptr<TlsContext>> TlsContext::create(const TlsOptions& o) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Error{"TLS: cannot create context: " + openssl_reason()};
  std::shared_ptr<TlsContext> owner(new TlsContext(ctx, o.insecure));

  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &on_new_session);

  if (o.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!o.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1)
        return Error{"TLS: cannot load CA file '" + o.ca_file + "': " + openssl_reason()};
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Error{"TLS: cannot load the system CA store: " + openssl_reason()};
    }
  }
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty())
      return Error{"TLS: a client certificate needs both a certificate file and a key file"};
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
      return Error{"TLS: cannot load client certificate '" + o.cert_file +
                   "': " + openssl_reason()};
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return Error{"TLS: cannot load client key '" + o.key_file + "': " + openssl_reason()};
    if (SSL_CTX_check_private_key(ctx) != 1)
      return Error{"TLS: client key '" + o.key_file + "' does not match certificate '" +
                   o.cert_file + "'"};
  }
  return owner;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

TlsSessionCache::~TlsSessionCache() {
  if (session_ != nullptr) SSL_SESSION_free(session_);
}

void TlsSessionCache::store(SSL_SESSION* session) {
  if (session_ != nullptr) SSL_SESSION_free(session_);
  session_ = session;
  ++stored_;
}

}  // namespace llmload::worker
