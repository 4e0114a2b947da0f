// Test certificates made at run time with the OpenSSL API (no private key is committed), and a
// TLS server on a plain thread (blocking SSL over the accepted socket).
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/time.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/http_test_support.h"

namespace llmload::testing {

struct KeyAndCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string key_file, cert_file;
};

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Holds every certificate of one test in a temporary directory, removed on destruction.
class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/llmload-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ca = make("test-ca", "", nullptr, 0, 3600, true);
  }
  ~TestPki() {
    for (auto* kc : {&ca}) free_kc(*kc);
    for (auto& kc : made_) free_kc(kc);
    std::filesystem::remove_all(dir_);
  }
  // A certificate for `sans` ("DNS:localhost,IP:127.0.0.1"), signed by the CA unless
  // self_signed, valid from now+from_s to now+to_s.
  KeyAndCert leaf(const std::string& name, const std::string& sans, bool self_signed = false,
                  long from_s = -60, long to_s = 3600) {
    made_.push_back(make(name, sans, self_signed ? nullptr : &ca, from_s, to_s, false));
    return made_.back();
  }
  KeyAndCert ca;

 private:
  static void free_kc(KeyAndCert& kc) {
    EVP_PKEY_free(kc.key);
    X509_free(kc.cert);
  }
  KeyAndCert make(const std::string& name, const std::string& sans, const KeyAndCert* issuer,
                  long from_s, long to_s, bool is_ca) {
    KeyAndCert kc;
    kc.key = EVP_EC_gen("P-256");
    kc.cert = X509_new();
    X509_set_version(kc.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(kc.cert), long(++serial_));
    X509_gmtime_adj(X509_getm_notBefore(kc.cert), from_s);
    X509_gmtime_adj(X509_getm_notAfter(kc.cert), to_s);
    X509_set_pubkey(kc.cert, kc.key);
    X509_NAME* n = X509_get_subject_name(kc.cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509* issuer_cert = issuer ? issuer->cert : kc.cert;
    X509_set_issuer_name(kc.cert, X509_get_subject_name(issuer_cert));
    add_ext(kc.cert, issuer_cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (is_ca) add_ext(kc.cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (!sans.empty()) add_ext(kc.cert, issuer_cert, NID_subject_alt_name, sans.c_str());
    X509_sign(kc.cert, issuer ? issuer->key : kc.key, EVP_sha256());
    kc.key_file = dir_ + "/" + name + ".key";
    kc.cert_file = dir_ + "/" + name + ".crt";
    FILE* f = fopen(kc.key_file.c_str(), "w");
    PEM_write_PrivateKey(f, kc.key, nullptr, nullptr, 0, nullptr, nullptr);
    fclose(f);
    f = fopen(kc.cert_file.c_str(), "w");
    PEM_write_X509(f, kc.cert);
    fclose(f);
    return kc;
  }
  std::string dir_;
  std::vector<KeyAndCert> made_;
  int serial_ = 0;
};

// What the TLS server does on each connection after the handshake.
struct TlsServerScript {
  std::string response;      // written after reading one request ("" = no request expected)
  bool close_notify = true;  // send close_notify before closing
  bool require_client_cert = false;
  int requests_per_connection = 1;
};

// Serves TLS connections one after another on a thread with `cert` (and the CA for mTLS).
class TlsTestServer {
 public:
  TlsTestServer(const KeyAndCert& cert, const KeyAndCert& ca, TlsServerScript script)
      : script_(std::move(script)) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, cert.cert);
    SSL_CTX_use_PrivateKey(ctx_, cert.key);
    if (script_.require_client_cert) {
      SSL_CTX_load_verify_locations(ctx_, ca.cert_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    SSL_CTX_set_session_id_context(ctx_, reinterpret_cast<const unsigned char*>("llmload"), 7);
    server_ = std::make_unique<TestServer>([this](int fd, int) { serve(fd); });
  }
  ~TlsTestServer() {
    server_.reset();
    SSL_CTX_free(ctx_);
  }
  uint16_t port() const { return server_->port(); }
  int handshakes_ok() const { return handshakes_ok_.load(); }

 private:
  void serve(int fd) {
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      ++handshakes_ok_;
      for (int i = 0; i < script_.requests_per_connection && !script_.response.empty(); ++i) {
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, size_t(n));
        }
        if (req.empty()) break;
        SSL_write(ssl, script_.response.data(), int(script_.response.size()));
      }
      if (script_.close_notify) SSL_shutdown(ssl);
    } else {
      // Let the client read our alert before the socket goes: no RST over unread data.
      ::shutdown(fd, SHUT_WR);
      char sink[4096];
      while (::read(fd, sink, sizeof sink) > 0) {
      }
    }
    ERR_clear_error();
    SSL_free(ssl);
    ::close(fd);
  }
  TlsServerScript script_;
  SSL_CTX* ctx_;
  std::unique_ptr<TestServer> server_;
  std::atomic<int> handshakes_ok_{0};
};

}  // namespace llmload::testing
