#include "worker/tls_transport.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/clock.h"

namespace llmload::worker {
namespace {

// Plaintext out of SSL_read: one buffer per thread (= per loop), consumed inside the upcall.
thread_local char t_plain_buffer[16 * 1024];

std::string openssl_error_text() {
  unsigned long e = ERR_peek_last_error();
  if (e == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "unknown error";
}

bool is_ip_literal(const std::string& host) {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

TlsTransport::TlsTransport(uv_loop_t* loop, TransportHandler* handler, const TlsContext& ctx,
                           std::string host, TlsSessionCache* sessions, bool kernel_stamps)
    : handler_(handler),
      tcp_(loop, this, kernel_stamps),
      host_(std::move(host)),
      insecure_(ctx.insecure()),
      sessions_(sessions) {
  ssl_ = SSL_new(ctx.native());
  if (ssl_ != nullptr) {
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);  // "no data yet" until the TCP EOF arrives
    SSL_set_bio(ssl_, rbio_, wbio_);    // the SSL owns both BIOs now
    SSL_set_app_data(ssl_, sessions_);
    SSL_set_connect_state(ssl_);
  }
}

TlsTransport::~TlsTransport() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

int TlsTransport::connect(const sockaddr* addr) {
  if (ssl_ == nullptr || rbio_ == nullptr || wbio_ == nullptr) return UV_ENOMEM;
  const bool ip = is_ip_literal(host_);
  if (!ip) SSL_set_tlsext_host_name(ssl_, host_.c_str());  // SNI is for names only
  if (!insecure_) {
    if (ip) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str()) != 1) return UV_EINVAL;
    } else if (SSL_set1_host(ssl_, host_.c_str()) != 1) {
      return UV_EINVAL;
    }
  }
  if (sessions_ != nullptr && sessions_->get() != nullptr) SSL_set_session(ssl_, sessions_->get());
  return tcp_.connect(addr);
}

bool TlsTransport::session_reused() const {
  return ssl_ != nullptr && SSL_session_reused(ssl_);
}

void TlsTransport::on_transport_connected(int64_t tcp_done_ns, int64_t) {
  tcp_done_ns_ = tcp_done_ns;
  handshake(ReadStamp{tcp_done_ns, false});
}

void TlsTransport::handshake(ReadStamp t) {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_done_ = true;
    if (!flush()) return;
    handler_->on_transport_connected(tcp_done_ns_, mono_now_ns());
    if (closing()) return;
    read_plaintext(t);  // application data may have come with the last handshake flight
    return;
  }
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    flush();
    return;
  }
  flush();  // let the server see our alert
  if (!closing()) fail(t.ns, ErrorKind::kTls, false, handshake_error(err));
}

std::string TlsTransport::handshake_error(int ssl_error) const {
  long vr = SSL_get_verify_result(ssl_);
  if (vr != X509_V_OK)
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(vr);
  if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN)
    return "TLS handshake failed: connection closed by the peer";
  return "TLS handshake failed: " + openssl_error_text();
}

void TlsTransport::on_transport_data(ReadStamp t, const char* data, size_t len) {
  if (failed_) return;
  if (BIO_write(rbio_, data, int(len)) != int(len)) {
    fail(t.ns, ErrorKind::kTls, false, "TLS: out of memory buffering ciphertext");
    return;
  }
  if (!handshake_done_) {
    handshake(t);
    return;
  }
  read_plaintext(t);
}

void TlsTransport::read_plaintext(ReadStamp t) {
  while (!closing() && !failed_ && !eof_delivered_) {
    ERR_clear_error();
    int n = SSL_read(ssl_, t_plain_buffer, int(sizeof t_plain_buffer));
    if (n > 0) {
      handler_->on_transport_data(t, t_plain_buffer, size_t(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    if (err == SSL_ERROR_ZERO_RETURN) {  // close_notify: a clean end of the stream
      eof_delivered_ = true;
      flush();
      if (!closing()) handler_->on_transport_eof(t.ns, true);
      return;
    }
    if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      eof_delivered_ = true;  // TCP EOF without close_notify: possibly a truncation attack
      handler_->on_transport_eof(t.ns, false);
      return;
    }
    fail(t.ns, ErrorKind::kTls, false, "TLS read failed: " + openssl_error_text());
    return;
  }
  if (!closing() && !failed_) flush();  // key updates, alerts
}

void TlsTransport::on_transport_eof(int64_t t, bool) {
  if (failed_ || eof_delivered_) return;
  if (!handshake_done_) {
    fail(t, ErrorKind::kTls, true, "TLS handshake failed: connection closed by the peer");
    return;
  }
  // Tell OpenSSL the ciphertext ended; it reports close_notify or an unexpected EOF.
  BIO_set_mem_eof_return(rbio_, 0);
  read_plaintext(ReadStamp{t, false});
  if (!eof_delivered_ && !failed_ && !closing()) {
    eof_delivered_ = true;
    handler_->on_transport_eof(t, false);
  }
}

void TlsTransport::on_transport_error(int64_t t, ErrorKind kind, bool peer_closed,
                                      std::string_view message) {
  if (failed_) return;
  failed_ = true;
  if (!handshake_done_ && kind == ErrorKind::kReset)
    kind = ErrorKind::kTls;  // reset during the handshake: a TLS failure, not a mid-body reset
  handler_->on_transport_error(t, kind, peer_closed, message);
}

void TlsTransport::on_transport_closed() {
  handler_->on_transport_closed();
}

void TlsTransport::on_transport_written(int64_t t) {
  handler_->on_transport_written(t);
}

IoResult TlsTransport::write(const uv_buf_t* bufs, unsigned nbufs) {
  if (!handshake_done_ || failed_ || closing()) return IoResult::kError;
  for (unsigned i = 0; i < nbufs; ++i) {
    if (bufs[i].len == 0) continue;
    ERR_clear_error();
    // A memory BIO never blocks: SSL_write takes the whole buffer or fails.
    int n = SSL_write(ssl_, bufs[i].base, int(bufs[i].len));
    if (n <= 0) {
      fail(mono_now_ns(), ErrorKind::kTls, false, "TLS write failed: " + openssl_error_text());
      return IoResult::kError;
    }
  }
  char* data = nullptr;
  long pending = BIO_get_mem_data(wbio_, &data);
  if (pending <= 0) return IoResult::kOk;
  IoResult r = tcp_.write_copy(data, size_t(pending), true);
  (void)BIO_reset(wbio_);
  return r;
}

bool TlsTransport::flush() {
  char* data = nullptr;
  long pending = BIO_get_mem_data(wbio_, &data);
  if (pending <= 0) return true;
  IoResult r = tcp_.write_copy(data, size_t(pending), false);
  (void)BIO_reset(wbio_);
  if (r == IoResult::kOk || r == IoResult::kQueued) return true;
  if (r == IoResult::kRetry && !failed_ && !closing())
    fail(mono_now_ns(), handshake_done_ ? ErrorKind::kReset : ErrorKind::kTls, true,
         "write: connection reset by peer");
  return false;
}

void TlsTransport::fail(int64_t t, ErrorKind kind, bool peer_closed, std::string message) {
  if (failed_) return;
  failed_ = true;
  handler_->on_transport_error(t, kind, peer_closed, message);
}

void TlsTransport::close() {
  // Closing a healthy connection (idle, or a request we cancelled) is not a TLS failure: mark
  // the shutdown done so OpenSSL keeps the session resumable instead of discarding it.
  if (ssl_ != nullptr && handshake_done_ && !failed_)
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  tcp_.close();
}

}  // namespace llmload::worker
