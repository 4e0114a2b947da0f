// Plain TCP on a descriptor this transport owns, watched by one uv_poll_t: libuv allows one
// watcher per descriptor and its stream reads hide control messages, so connect, recvmsg and
// writev are done here. TCP_NODELAY on; SO_TIMESTAMPNS on when kernel stamps are asked for, so
// each read carries the kernel's receive time (ReadStamp); reads land in one per-thread buffer
// (no allocation per read); writes are tried at once, and what the kernel does not take waits in
// a byte-ordered queue written as the socket turns writable.
// The first TcpTransport sets SIGPIPE to ignored process-wide (EPIPE is an error value here).
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "worker/transport.h"

namespace llmload::worker {

class TcpTransport final : public Transport {
 public:
  // kernel_stamps: stamp reads with the kernel's receive time where it gives one (false: every
  // read is stamped with a clock reading after the loop woke).
  TcpTransport(uv_loop_t* loop, TransportHandler* handler, bool kernel_stamps = true);
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
  // The most buffers one write takes (HttpConnection writes at most 2, TLS 1).
  static constexpr unsigned kMaxWriteBuffers = 8;

 private:
  // Bytes the kernel has not taken yet, in write order.
  struct Pending {
    const char* base;
    size_t len;
    std::unique_ptr<char[]> owned;  // the copy `base` points into (write_copy), else null
    bool notify;                    // the last piece of a write that returned kQueued
  };

  static void on_poll(uv_poll_t* p, int status, int events);
  static void on_close(uv_handle_t* h);
  void finish_connect(int status);
  void read_ready();
  // One recvmsg. Returns the bytes delivered, 0 once the end or a read error was reported, or
  // -1 when there was nothing to read.
  ssize_t read_once();
  void on_poll_error(int status);
  void flush_queue();
  void enqueue(const uv_buf_t* bufs, unsigned nbufs, size_t skip, bool copy, bool notify);
  // Polls for what is wanted now: readable while reading, writable while connecting or queued.
  int watch();
  IoResult write_impl(const uv_buf_t* bufs, unsigned nbufs, bool copy, bool notify);
  void fail_io(const char* what, int status);

  uv_loop_t* loop_;
  TransportHandler* handler_;
  // poll_ once connect() made the socket (fd_ >= 0). A close() before there is any socket closes
  // idle_ instead, so on_transport_closed still comes from a close callback.
  union {
    uv_poll_t poll_;
    uv_idle_t idle_;
  };
  int fd_ = -1;
  int watching_ = 0;  // the uv_poll events asked for now
  std::vector<Pending> queue_;
  bool kernel_stamps_;
  bool connecting_ = false;
  bool connected_ = false;
  bool reading_ = false;  // connected and neither end nor read error seen
  bool closing_ = false;
};

}  // namespace llmload::worker
