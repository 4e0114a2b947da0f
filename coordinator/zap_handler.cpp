#include "coordinator/zap_handler.h"

#include <zmq.h>

namespace llmload::coord {

ZapHandler::ZapHandler(zmq::context_t& ctx, std::vector<std::string> allowed)
    : ctx_(ctx), allowed_(allowed.begin(), allowed.end()) {}

ZapHandler::~ZapHandler() {
  stop();
}

Expected<bool> ZapHandler::start() {
  try {
    sock_ = zmq::socket_t(ctx_, zmq::socket_type::rep);
    sock_.set(zmq::sockopt::linger, 0);
    sock_.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    return Error{std::string("cannot start the ZAP handler: ") + e.what()};
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void ZapHandler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (sock_.handle() != nullptr) sock_.close();
}

std::string ZapHandler::decide(const std::vector<std::string>& frames, std::string& user_id,
                               std::string& status_text) const {
  // version, request id, domain, address, identity, mechanism, credentials...
  if (frames.size() < 6 || frames[0] != "1.0") {
    status_text = "malformed ZAP request";
    return "400";
  }
  if (frames[5] != "CURVE" || frames.size() != 7 || frames[6].size() != 32) {
    status_text = "CURVE required";
    return "400";
  }
  char z85[41] = {0};
  if (zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(frames[6].data()), 32) == nullptr) {
    status_text = "bad key";
    return "400";
  }
  if (!allowed_.count(z85)) {
    status_text = "worker key not in the allow-list";
    return "400";
  }
  user_id = z85;
  status_text = "OK";
  return "200";
}

void ZapHandler::run() {
  while (!stop_) {
    zmq::pollitem_t items[] = {{sock_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(100));
    } catch (const zmq::error_t&) {
      return;  // context terminated
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<std::string> frames;
    try {
      while (frames.size() < 16) {
        zmq::message_t m;
        if (!sock_.recv(m, zmq::recv_flags::none)) break;
        frames.emplace_back(static_cast<const char*>(m.data()), m.size());
        if (!m.more()) break;
      }
      // Drain anything beyond the bound (a REP must read the whole request before replying).
      while (sock_.get(zmq::sockopt::rcvmore)) {
        zmq::message_t m;
        (void)sock_.recv(m, zmq::recv_flags::none);
        frames.emplace_back();  // makes the request malformed
      }
    } catch (const zmq::error_t&) {
      return;
    }
    std::string user_id, status_text;
    std::string code = decide(frames, user_id, status_text);
    (code == "200" ? accepted_ : refused_)++;
    const std::string request_id = frames.size() > 1 ? frames[1] : std::string();
    try {
      sock_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
      sock_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      sock_.send(zmq::buffer(code), zmq::send_flags::sndmore);
      sock_.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
      sock_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
      sock_.send(zmq::buffer(std::string_view()), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      return;
    }
  }
}

}  // namespace llmload::coord
