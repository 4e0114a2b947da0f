// Sending and receiving wire messages on ZeroMQ sockets (header-only: common/ does not link
// ZeroMQ; the coordinator and the worker's control side, which do, include this).
//
// ROUTER side: [routing id][type][body]. DEALER side: [type][body]. A message with any other
// number of frames is read whole (bounded) and reported as malformed, never half-read.
#pragma once

#include <optional>
#include <string>
#include <zmq.hpp>

#include "common/wire.h"

namespace llmload::wire {

struct RawMessage {
  std::string routing_id;  // ROUTER only
  std::string type;
  std::string body;
  bool well_formed = false;  // the expected number of frames
};

// Sends without blocking; false when the peer cannot take it now (no connection, queue full,
// unknown routing id on a ROUTER_MANDATORY socket).
inline bool send_message(zmq::socket_t& s, const Message& m,
                         const std::string* routing_id = nullptr) {
  Frames f = encode(m);
  try {
    if (routing_id) {
      if (!s.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return false;
      }
    }
    if (!s.send(zmq::buffer(f.type), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    return s.send(zmq::buffer(f.body), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

// Sends an already encoded MessagePack body under a type name.
inline bool send_body(zmq::socket_t& s, std::string_view type, std::string_view bytes,
                      const std::string* routing_id = nullptr) {
  try {
    if (routing_id &&
        !s.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    if (!s.send(zmq::buffer(type), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    return s.send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

// Receives one whole message if one is waiting (non-blocking); nullopt when none.
inline std::optional<RawMessage> recv_message(zmq::socket_t& s, bool router) {
  RawMessage r;
  std::size_t frames = 0;
  const std::size_t expected = router ? 3 : 2;
  try {
    while (true) {
      zmq::message_t part;
      auto got = s.recv(part, frames == 0 ? zmq::recv_flags::dontwait : zmq::recv_flags::none);
      if (!got) return std::nullopt;
      if (frames < expected) {
        std::string text(static_cast<const char*>(part.data()), part.size());
        std::size_t slot = router ? frames : frames + 1;
        if (slot == 0)
          r.routing_id = std::move(text);
        else if (slot == 1)
          r.type = std::move(text);
        else
          r.body = std::move(text);
      }
      ++frames;
      if (!part.more()) break;
    }
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  r.well_formed = frames == expected;
  return r;
}

}  // namespace llmload::wire
