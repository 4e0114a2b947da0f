// TLS for the mock: a server context (given PEM cert+key, or a self-signed pair for localhost
// and 127.0.0.1 generated at start and written out so clients can trust it) and a per-connection
// session over memory BIOs, so the bytes still move through libuv.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "mock/out_buffer.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace llmload::mock {

class TlsContext {
 public:
  ~TlsContext();
  // cert_file/key_file given: loads them. Both empty: generates an EC P-256 key and a
  // certificate (CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1, valid 30 days) and
  // writes the certificate to cert_out (PEM). The error names the file at fault.
  static Expected<std::shared_ptr<TlsContext>> create(const std::string& cert_file,
                                                      const std::string& key_file,
                                                      const std::string& cert_out);
  SSL_CTX* ctx() const { return ctx_; }
  // The certificate clients should trust.
  const std::string& cert_path() const { return cert_path_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  std::string cert_path_;
};

class TlsSession {
 public:
  explicit TlsSession(SSL_CTX* ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Feeds bytes from the socket. Decrypted application data is appended to `plain`, bytes to
  // send back (handshake) to `cipher_out`. False on a TLS error (the connection should close).
  bool on_cipher(const char* data, size_t n, OutBuffer& plain, OutBuffer& cipher_out);
  // Encrypts application data into `cipher_out`. False on error.
  bool write(const char* data, size_t n, OutBuffer& cipher_out);
  bool handshake_done() const;

 private:
  void drain(OutBuffer& cipher_out);
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // socket -> SSL
  BIO* wbio_ = nullptr;  // SSL -> socket
};

}  // namespace llmload::mock
