#include "coordinator/coordinator.h"

#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cstdarg>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/wire_socket.h"
#include "coordinator/run_control.h"
#include "coordinator/zap_handler.h"

namespace llmload::coord {

bool is_local_endpoint(const std::string& ep) {
  if (ep.rfind("inproc://", 0) == 0 || ep.rfind("ipc://", 0) == 0) return true;
  if (ep.rfind("tcp://", 0) != 0) return false;
  std::string hostport = ep.substr(6);
  std::string host;
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return false;
    host = hostport.substr(1, close - 1);
    return host == "::1";
  }
  host = hostport.substr(0, hostport.rfind(':'));
  if (host == "localhost") return true;
  return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
}

int exit_code_for(const RunEnding& e) {
  int code = kExitOk;
  if (e.internal_error) code = combine_exit_codes(code, kExitInternal);
  if (e.config_error) code = combine_exit_codes(code, kExitUsage);
  if (e.aborted) code = combine_exit_codes(code, kExitAborted);
  if (e.workers_lost || e.ok == 0) code = combine_exit_codes(code, kExitIncomplete);
  if (e.assertion_failed) code = combine_exit_codes(code, kExitAssertion);
  return code;
}

RunStatus status_for_exit(int exit_code) {
  switch (exit_code) {
    case kExitOk:
    case kExitAssertion:
      return RunStatus::kCompleted;
    case kExitAborted:
      return RunStatus::kAborted;
    case kExitIncomplete:
      return RunStatus::kPartial;
    default:
      return RunStatus::kFailed;
  }
}

struct Coordinator::Impl {
  CoordinatorOptions opt;
  std::unique_ptr<zmq::context_t> own_ctx;
  zmq::context_t* ctx = nullptr;
  std::unique_ptr<zmq::socket_t> router;
  std::unique_ptr<ZapHandler> zap;
  std::string endpoint;
  int64_t malformed = 0;
  int64_t rejected = 0;
  std::vector<KeptWorker> kept;  // keep_workers: still attached after the last run
};

Coordinator::Coordinator(CoordinatorOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  if (impl_->opt.context) {
    impl_->ctx = impl_->opt.context;
  } else {
    impl_->own_ctx = std::make_unique<zmq::context_t>(1);
    impl_->ctx = impl_->own_ctx.get();
  }
}

Coordinator::~Coordinator() {
  if (impl_->router) {
    // Workers kept across runs (keep_workers) are told the session is over; a short linger lets
    // the BYE leave before the socket closes (else they notice only by the idle silence).
    for (const KeptWorker& k : impl_->kept)
      (void)wire::send_message(*impl_->router, wire::Bye{"session over"}, &k.routing_id);
    if (!impl_->kept.empty()) impl_->router->set(zmq::sockopt::linger, 1000);
    impl_->router->close();
  }
  if (impl_->zap) impl_->zap->stop();
}

CoordinatorOptions& Coordinator::options() {
  return impl_->opt;
}

int64_t Coordinator::malformed_messages() const {
  return impl_->malformed;
}
int64_t Coordinator::rejected_hellos() const {
  return impl_->rejected;
}

Expected<std::string> Coordinator::bind() {
  auto& o = impl_->opt;
  const bool curve = o.curve.has_value();
  if (!curve && !is_local_endpoint(o.bind)) {
    if (!o.allow_insecure) {
      return Error{"--bind " + o.bind +
                   ": not a loopback address, and no CURVE keys given: use --curve-key and "
                   "--allow-keys (llmload keygen), or --allow-insecure to accept the risk"};
    }
    std::fprintf(o.log,
                 "WARNING: INSECURE: binding %s WITHOUT CURVE: anyone who can reach this port can "
                 "join the run, receive the scenario with its secrets and send false results\n",
                 o.bind.c_str());
  }
  if (curve && o.allowed_keys.empty()) {
    return Error{"CURVE keys given but no worker key allowed: pass --allow-keys FILE"};
  }
  try {
    if (curve) {
      impl_->zap = std::make_unique<ZapHandler>(*impl_->ctx, o.allowed_keys);
      auto started = impl_->zap->start();
      if (!started) return Error{started.error()};
    }
    auto sock = std::make_unique<zmq::socket_t>(*impl_->ctx, zmq::socket_type::router);
    sock->set(zmq::sockopt::linger, 0);
    sock->set(zmq::sockopt::router_mandatory, 1);
    sock->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(o.max_message_bytes));
    sock->set(zmq::sockopt::rcvhwm, 100'000);
    sock->set(zmq::sockopt::sndhwm, 100'000);
    // Hundreds of workers connecting at once: ZeroMQ's default listen backlog (100) would drop
    // SYNs and delay their joins by a second or more.
    sock->set(zmq::sockopt::backlog, 4096);
    if (curve) {
      sock->set(zmq::sockopt::curve_server, 1);
      sock->set(zmq::sockopt::curve_secretkey, o.curve->secret_key);
      sock->set(zmq::sockopt::zap_domain, "llmload");
      int one = 1;
      // ZMQ_ZAP_ENFORCE_DOMAIN (draft option 93 in Debian's libzmq): no handler → refused.
      if (zmq_setsockopt(sock->handle(), 93, &one, sizeof one) != 0) {
        return Error{
            "cannot enforce the ZAP domain (ZMQ_ZAP_ENFORCE_DOMAIN): refusing to run "
            "CURVE without it"};
      }
    }
    sock->bind(o.bind);
    impl_->endpoint = sock->get(zmq::sockopt::last_endpoint);
    impl_->router = std::move(sock);
  } catch (const zmq::error_t& e) {
    return Error{"--bind " + o.bind + ": " + e.what()};
  }
  if (o.on_bound) o.on_bound(impl_->endpoint);
  return impl_->endpoint;
}

RunOutcome Coordinator::run(const Scenario& scenario, const std::vector<ResolvedPrompt>& prompts,
                            const std::string& run_id) {
  if (!impl_->router) {
    RunOutcome out;
    out.exit_code = kExitInternal;
    out.message = "coordinator not bound";
    return out;
  }
  RunControl rc(impl_->opt, *impl_->router, scenario, prompts, run_id);
  if (impl_->opt.keep_workers) rc.adopt(impl_->kept);
  impl_->kept.clear();
  RunOutcome out = rc.run();
  if (impl_->opt.keep_workers) impl_->kept = rc.kept_workers();
  impl_->malformed += rc.malformed();
  impl_->rejected += rc.rejected();
  return out;
}

}  // namespace llmload::coord
