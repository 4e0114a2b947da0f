// `llmload mock --tls`: a generated self-signed certificate that a verifying OpenSSL client
// trusts for 127.0.0.1, and a given certificate and key.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "tests/integration/mock_test_util.h"

using namespace mocktest;

namespace {

// A verifying TLS client over a blocking socket; returns everything read until close/timeout.
struct TlsResult {
  bool handshake = false;
  std::string verify_error;
  std::string data;
};

TlsResult tls_exchange(int port, const std::string& ca_file, const std::string& request) {
  TlsResult out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    out.verify_error = "cannot load " + ca_file;
    SSL_CTX_free(ctx);
    return out;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    SSL_CTX_free(ctx);
    return out;
  }
  SSL* ssl = SSL_new(ctx);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1) {
    out.handshake = true;
    SSL_write(ssl, request.data(), int(request.size()));
    char buf[16384];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
      out.data.append(buf, size_t(n));
      if (out.data.find("0\r\n\r\n") != std::string::npos) break;
    }
  } else {
    out.verify_error = X509_verify_cert_error_string(SSL_get_verify_result(ssl));
  }
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return out;
}

const std::string kReq = post(
    "/v1/chat/completions",
    R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":3})");

}  // namespace

TEST(MockTls, SmokeSelfSignedCertificateIsTrusted) {
  std::string cert = temp_path("cert.pem");
  MockProcess mock({"--tls", "--cert-out", cert, "--ttft", "1ms", "--itl", "1ms"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines();
  EXPECT_EQ(mock.url().rfind("https://127.0.0.1:", 0), 0u);
  TlsResult r = tls_exchange(mock.port(), cert, kReq);
  ASSERT_TRUE(r.handshake) << r.verify_error;
  EXPECT_EQ(r.data.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(r.data.find("data: [DONE]"), std::string::npos);
  EXPECT_TRUE(r.data.size() > 500);
  std::remove(cert.c_str());
}

TEST(MockTls, UntrustedClientFailsVerification) {
  std::string cert = temp_path("cert2.pem");
  MockProcess mock({"--tls", "--cert-out", cert});
  ASSERT_TRUE(mock.ok());
  // Trust some other certificate: a second mock's.
  std::string other = temp_path("cert3.pem");
  MockProcess mock2({"--tls", "--cert-out", other});
  ASSERT_TRUE(mock2.ok());
  TlsResult r = tls_exchange(mock.port(), other, kReq);
  EXPECT_FALSE(r.handshake);
  EXPECT_FALSE(r.verify_error.empty());
  std::remove(cert.c_str());
  std::remove(other.c_str());
}

TEST(MockTls, GivenCertificateAndKey) {
  // Make a key and a self-signed certificate for 127.0.0.1 here, as a user would with openssl.
  std::string cert = temp_path("given-cert.pem"), key = temp_path("given-key.pem");
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(pkey, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("given"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf(nullptr, &v3, "subjectAltName", "IP:127.0.0.1");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  ASSERT_GT(X509_sign(x, pkey, EVP_sha256()), 0);
  FILE* f = fopen(cert.c_str(), "w");
  PEM_write_X509(f, x);
  fclose(f);
  f = fopen(key.c_str(), "w");
  PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(pkey);

  MockProcess mock({"--tls", "--cert", cert, "--key", key, "--ttft", "1ms", "--itl", "1ms"});
  ASSERT_TRUE(mock.ok()) << mock.first_lines();
  TlsResult r = tls_exchange(mock.port(), cert, kReq);
  ASSERT_TRUE(r.handshake) << r.verify_error;
  EXPECT_NE(r.data.find("data: [DONE]"), std::string::npos);
  mock.stop();
  // A key file that does not exist: exit 2 naming it.
  MockProcess bad({"--tls", "--cert", cert, "--key", "/nonexistent/key.pem"});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.stop(), 2);
  EXPECT_NE(bad.stderr_text().find("/nonexistent/key.pem"), std::string::npos) << bad.stderr_text();
  std::remove(cert.c_str());
  std::remove(key.c_str());
}
