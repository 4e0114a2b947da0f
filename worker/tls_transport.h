// TLS over a TcpTransport with OpenSSL memory BIOs: ciphertext read from the socket is written
// into the SSL's read BIO, plaintext comes out of SSL_read into a per-thread buffer and goes up
// with the socket read's timestamp; whatever SSL writes is flushed to the socket.
//
// Verification: SNI and SSL_set1_host (or the IP address check) for the target host unless the
// context is insecure. A TCP EOF without the peer's close_notify is reported as an unclean EOF
// (never ignored); a failed handshake gives ErrorKind::kTls with the verification message,
// e.g. "certificate verify failed: self-signed certificate".
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "worker/tcp_transport.h"
#include "worker/tls_context.h"

namespace llmload::worker {

class TlsTransport final : public Transport, private TransportHandler {
 public:
  // `ctx` must outlive the transport; `sessions` (may be null) too. kernel_stamps: as for
  // TcpTransport (the ciphertext read's stamp goes up with the plaintext it yields).
  TlsTransport(uv_loop_t* loop, TransportHandler* handler, const TlsContext& ctx, std::string host,
               TlsSessionCache* sessions, bool kernel_stamps = true);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  int connect(const sockaddr* addr) override;
  IoResult write(const uv_buf_t* bufs, unsigned nbufs) override;
  void close() override;
  bool closing() const override { return tcp_.closing(); }
  bool is_tls() const override { return true; }

  // After the handshake: whether the session was resumed from the cache.
  bool session_reused() const;

 private:
  void on_transport_connected(int64_t tcp_done_ns, int64_t ready_ns) override;
  void on_transport_data(ReadStamp t, const char* data, size_t len) override;
  void on_transport_eof(int64_t t, bool clean) override;
  void on_transport_error(int64_t t, ErrorKind kind, bool peer_closed,
                          std::string_view message) override;
  void on_transport_closed() override;
  void on_transport_written(int64_t t) override;

  void handshake(ReadStamp t);
  void read_plaintext(ReadStamp t);
  // Sends what SSL wrote into the write BIO. False if the socket write failed.
  bool flush();
  void fail(int64_t t, ErrorKind kind, bool peer_closed, std::string message);
  std::string handshake_error(int ssl_error) const;

  TransportHandler* handler_;
  TcpTransport tcp_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // network -> SSL
  BIO* wbio_ = nullptr;  // SSL -> network
  std::string host_;
  bool insecure_;
  TlsSessionCache* sessions_;
  int64_t tcp_done_ns_ = 0;
  bool handshake_done_ = false;
  bool eof_delivered_ = false;
  bool failed_ = false;
};

}  // namespace llmload::worker
