// Plain TCP over uv_tcp_t: TCP_NODELAY on, reads into one per-thread buffer (no allocation per
// read), one CLOCK_MONOTONIC read per socket read, writes tried synchronously first.
// The first TcpTransport sets SIGPIPE to ignored process-wide (EPIPE is an error value here).
#pragma once

#include <uv.h>

#include <string>

#include "worker/transport.h"

namespace llmload::worker {

class TcpTransport final : public Transport {
 public:
  TcpTransport(uv_loop_t* loop, TransportHandler* handler);
  ~TcpTransport() override = default;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  int connect(const sockaddr* addr) override;
  // Writes straight from the caller's buffers (they must outlive the write).
  IoResult write(const uv_buf_t* bufs, unsigned nbufs) override;
  // Writes a copy of whatever the kernel does not take at once (for TLS ciphertext). notify:
  // a kQueued result is followed by on_transport_written (false: TLS's own records).
  IoResult write_copy(const char* data, size_t len, bool notify);
  void close() override;
  bool closing() const override { return closing_; }
  bool is_tls() const override { return false; }
  bool connected() const { return connected_; }

  // The size of the per-thread read buffer every TCP read lands in.
  static constexpr size_t kReadBufferSize = 64 * 1024;

 private:
  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* h);
  IoResult write_impl(const uv_buf_t* bufs, unsigned nbufs, bool copy, bool notify);
  void fail_io(const char* what, int status);

  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  TransportHandler* handler_;
  bool connecting_ = false;
  bool connected_ = false;
  bool closing_ = false;
  unsigned writes_in_flight_ = 0;
};

}  // namespace llmload::worker
