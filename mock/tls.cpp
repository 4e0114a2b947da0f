#include "mock/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>

namespace llmload::mock {

namespace {

std::string ssl_error() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// A self-signed certificate for local testing; key and certificate stay in memory and only the
// certificate is written out (clients need nothing else).
Expected<bool> make_self_signed(SSL_CTX* ctx, const std::string& cert_out) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!pkey) return Error{"TLS: generating a key: " + ssl_error()};
  X509* x = X509_new();
  bool ok = x != nullptr;
  if (ok) {
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), long(std::time(nullptr)));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("llmload mock"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    const char* exts[][2] = {{"subjectAltName", "DNS:localhost,IP:127.0.0.1,IP:::1"},
                             {"basicConstraints", "critical,CA:TRUE"},
                             {"keyUsage", "critical,digitalSignature,keyCertSign"},
                             {"extendedKeyUsage", "serverAuth"}};
    for (auto& e : exts) {
      X509_EXTENSION* ext = X509V3_EXT_conf(nullptr, &v3, e[0], e[1]);
      if (!ext) {
        ok = false;
        break;
      }
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(x, pkey, EVP_sha256()) > 0;
    ok = ok && SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
  }
  std::string err = ok ? "" : ssl_error();
  if (ok) {
    std::FILE* f = std::fopen(cert_out.c_str(), "w");
    if (!f) {
      err = "TLS: cannot write the certificate to " + cert_out;
      ok = false;
    } else {
      ok = PEM_write_X509(f, x) == 1;
      if (std::fclose(f) != 0 || !ok) {
        err = "TLS: writing the certificate to " + cert_out + " failed";
        ok = false;
      }
    }
  } else {
    err = "TLS: building a self-signed certificate: " + err;
  }
  X509_free(x);
  EVP_PKEY_free(pkey);
  if (!ok) return Error{err};
  return true;
}

}  // namespace

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Expected<std::shared_ptr<TlsContext>> TlsContext::create(const std::string& cert_file,
                                                         const std::string& key_file,
                                                         const std::string& cert_out) {
  auto t = std::make_shared<TlsContext>();
  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!t->ctx_) return Error{"TLS: SSL_CTX_new: " + ssl_error()};
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(t->ctx_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
  SSL_CTX_set_mode(t->ctx_, SSL_MODE_RELEASE_BUFFERS);
  if (cert_file.empty() != key_file.empty())
    return Error{"TLS: give both --cert and --key, or neither (a self-signed pair is generated)"};
  if (!cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(t->ctx_, cert_file.c_str()) != 1)
      return Error{"TLS: certificate " + cert_file + ": " + ssl_error()};
    if (SSL_CTX_use_PrivateKey_file(t->ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return Error{"TLS: key " + key_file + ": " + ssl_error()};
    if (SSL_CTX_check_private_key(t->ctx_) != 1)
      return Error{"TLS: key " + key_file + " does not match certificate " + cert_file};
    t->cert_path_ = cert_file;
  } else {
    auto made = make_self_signed(t->ctx_, cert_out);
    if (!made) return Error{made.error()};
    t->cert_path_ = cert_out;
  }
  return t;
}

TlsSession::TlsSession(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);  // the SSL owns both now
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

bool TlsSession::handshake_done() const {
  return SSL_is_init_finished(ssl_);
}

void TlsSession::drain(OutBuffer& cipher_out) {
  char buf[16384];
  int n;
  while ((n = BIO_read(wbio_, buf, sizeof buf)) > 0) cipher_out.append({buf, size_t(n)});
}

bool TlsSession::on_cipher(const char* data, size_t n, OutBuffer& plain, OutBuffer& cipher_out) {
  while (n > 0) {
    int w = BIO_write(rbio_, data, int(n));
    if (w <= 0) return false;
    data += w;
    n -= size_t(w);
  }
  if (!SSL_is_init_finished(ssl_)) {
    int r = SSL_do_handshake(ssl_);
    drain(cipher_out);
    if (r != 1) {
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
      ERR_clear_error();
      return false;
    }
  }
  char buf[16384];
  while (true) {
    int r = SSL_read(ssl_, buf, sizeof buf);
    if (r > 0) {
      plain.append({buf, size_t(r)});
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    drain(cipher_out);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
    ERR_clear_error();
    return false;  // close_notify or a protocol error
  }
}

bool TlsSession::write(const char* data, size_t n, OutBuffer& cipher_out) {
  while (n > 0) {
    int r = SSL_write(ssl_, data, int(n));
    if (r <= 0) {
      ERR_clear_error();
      return false;
    }
    data += r;
    n -= size_t(r);
  }
  drain(cipher_out);
  return true;
}

}  // namespace llmload::mock
