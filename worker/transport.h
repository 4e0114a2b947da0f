// The narrow seam between a byte stream and the protocol on it (wrk's `struct sock`, h2load's
// Session): plain TCP and TLS implement Transport; HttpConnection never knows which it has.
//
// Lifetime: a Transport lives inside its owner (HttpConnection). close() starts closing the
// libuv handle(s); on_transport_closed() is the last call a transport makes, from the uv_close
// callback, and the owner may delete the transport (and itself) inside it. After close() no
// other handler call is made.
//
// Timestamps: every call carries `t`, CLOCK_MONOTONIC ns taken ONCE per socket read (or event)
// by the TCP layer; TLS passes the socket read's time through with the plaintext it yields.
// Received data carries a ReadStamp: the kernel's receive time of the read's last segment
// (SO_TIMESTAMPNS) converted to CLOCK_MONOTONIC, or a clock reading after the loop woke where
// the kernel gave none or kernel stamps are off.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/metrics.h"

namespace llmload::worker {

enum class IoResult {
  kOk,      // the kernel took the first bytes now (the rest, if any, is queued and completes; a
            // later failure comes as on_transport_error)
  kQueued,  // the kernel took none of it yet (socket buffer full, or behind an earlier queued
            // write): it is queued, and on_transport_written(t) follows once all of it is written
  kError,   // failed now: the connection is unusable (on_transport_error follows)
  kRetry,   // nothing was written because the peer had already closed (EPIPE/ECONNRESET):
            // on a reused keep-alive connection, safe to retry on a fresh one
};

// When a socket read's bytes arrived, on the CLOCK_MONOTONIC timeline.
struct ReadStamp {
  int64_t ns;
  bool kernel;  // true: the kernel's receive stamp; false: a clock reading after the loop woke
};

class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // The stream is ready for application bytes. tcp_done_ns: TCP connect completed;
  // ready_ns: TLS handshake completed (== tcp_done_ns for plain TCP).
  virtual void on_transport_connected(int64_t tcp_done_ns, int64_t ready_ns) = 0;
  // Application bytes, valid only during the call (they live in a per-thread read buffer).
  virtual void on_transport_data(ReadStamp t, const char* data, size_t len) = 0;
  // The peer ended the stream. clean is false for a TLS stream cut without close_notify.
  virtual void on_transport_eof(int64_t t, bool clean) = 0;
  // Connect, handshake, read or write failure. kind is connect_refused, tls, reset, ...
  // peer_closed: the peer closed or reset the stream (EOF in a handshake, ECONNRESET, EPIPE),
  // as opposed to a refused connect or a verification failure.
  virtual void on_transport_error(int64_t t, ErrorKind kind, bool peer_closed,
                                  std::string_view message) = 0;
  // Last call: every handle is closed; the handler may delete the transport now.
  virtual void on_transport_closed() = 0;
  // A write() that returned kQueued is now wholly in the kernel, at t.
  virtual void on_transport_written(int64_t t) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts a non-blocking connect (TCP, then the TLS handshake). Returns a libuv error code
  // (< 0) if it could not even start; on_transport_error is then NOT called.
  virtual int connect(const sockaddr* addr) = 0;
  // Writes application bytes. The bytes must stay valid until the write completes or the
  // transport closes (plain TCP writes from them directly; TLS encrypts them at once).
  // kQueued: nothing was written yet; on_transport_written reports when it is.
  virtual IoResult write(const uv_buf_t* bufs, unsigned nbufs) = 0;
  // Closes without a goodbye (no TLS close_notify): on_transport_closed follows.
  virtual void close() = 0;
  virtual bool closing() const = 0;
  virtual bool is_tls() const = 0;
};

}  // namespace llmload::worker
