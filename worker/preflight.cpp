#include "worker/preflight.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "worker/dns_cache.h"
#include "worker/endpoint.h"
#include "worker/http_connection.h"

namespace llmload::worker {
namespace {

constexpr size_t kMaxListBytes = 4 * 1024 * 1024;

// One target's pre-flight: a chain of at most two probes on fresh connections.
class Probe final : public HttpListener, private ConnectionOwner {
 public:
  Probe(uv_loop_t* loop, DnsCache& dns, const PreflightTarget& target, int64_t deadline_ns,
        PreflightCheck& result)
      : loop_(loop), dns_(dns), target_(target), deadline_ns_(deadline_ns), result_(result) {}

  void start() {
    result_.target = Endpoint::redact(target_.url);
    auto ep = Endpoint::parse(target_.url);
    if (!ep) return fail(std::nullopt, ep.error());
    endpoint_ = std::move(ep.value());
    result_.target = endpoint_.display();
    if (endpoint_.tls) {
      auto ctx = TlsContext::create(target_.tls);
      if (!ctx) return fail(ErrorKind::kTls, ctx.error());
      tls_ = std::move(ctx.value());
    }
    dns_.resolve(endpoint_.host, endpoint_.port,
                 [this](bool ok, const std::vector<ResolvedAddress>& addrs, const std::string& e) {
                   if (finished_) return;
                   if (!ok) return fail(ErrorKind::kDns, e);
                   address_ = addrs.front();
                   next_probe();
                 });
  }

  bool finished() const { return finished_ && conn_ == nullptr; }
  // The deadline passed before an answer (e.g. a slow name lookup).
  void expire() {
    if (finished_) return;
    fail(ErrorKind::kConnectTimeout, "no answer within the pre-flight timeout");
    if (conn_ != nullptr) conn_->cancel();
  }

 private:
  void next_probe() {
    std::string path;
    if (on_fallback_)
      path = std::string(endpoint_.base_prefix()) + std::string(probe_.fallback);
    else if (!probe_.path.empty())
      path = endpoint_.path_for(probe_.path);
    result_.probe = path.empty() ? "connect" : "GET " + path;
    ConnectionConfig cfg;
    cfg.endpoint = &endpoint_;
    cfg.tls = tls_.get();
    conn_ = HttpConnection::create(loop_, cfg, this);
    body_.clear();
    if (!path.empty()) {
      auto req = HttpRequest::build("GET", endpoint_, path, target_.headers, "");
      if (!req) {
        fail(std::nullopt, req.error());
        conn_->close();
        return;
      }
      request_ = std::move(req.value());
      conn_->send(*request_, this);
    }
    conn_->connect(address_.get(), deadline_ns_);
  }

  void fail(std::optional<ErrorKind> kind, std::string why) {
    if (finished_) return;
    finished_ = true;
    result_.ok = false;
    result_.error = kind;
    const std::string prefix = result_.target + ": ";
    if (why.starts_with(prefix)) why.erase(0, prefix.size());
    result_.message = "pre-flight failed for target " + result_.target + ": " + why;
  }

  void succeed() {
    if (finished_) return;
    finished_ = true;
    result_.ok = true;
  }

  // HttpListener
  void on_request_sent(int64_t, HttpConnection& c) override {
    c.arm(deadline_ns_, ErrorKind::kTotalTimeout);
  }
  void on_response_headers(int64_t, int64_t, const ResponseHead& head) override {
    result_.status = head.status;
  }
  void on_body(int64_t, const char* data, size_t len) override {
    if (body_.size() + len <= kMaxListBytes) body_.append(data, len);
  }
  void on_complete(int64_t) override {
    const int status = result_.status;
    if (status == 401 || status == 403) {
      fail(ErrorKind::kHttp4xx, result_.probe + " answered " + std::to_string(status) +
                                    " (check the credentials in the scenario's headers)");
      return;
    }
    if (status >= 200 && status < 300 && !on_fallback_) {
      check_model_list();
      succeed();
      return;
    }
    if (!on_fallback_ && !probe_.fallback.empty()) {  // no model list here: try the fallback
      on_fallback_ = true;
      if (!target_.model.empty())
        result_.warnings.push_back(result_.target + ": " + result_.probe + " answered " +
                                   std::to_string(status) + "; model '" + target_.model +
                                   "' not checked");
      next_after_close_ = true;
      return;
    }
    succeed();  // any other answer proves the target reachable
  }
  void on_error(int64_t, const NetError& e) override {
    const bool timeout = e.kind == ErrorKind::kTotalTimeout || e.kind == ErrorKind::kConnectTimeout;
    fail(e.kind, timeout
                     ? "no answer within the pre-flight timeout (" + std::string(name(e.kind)) + ")"
                     : e.message);
  }

  void check_model_list() {
    if (target_.model.empty()) return;
    auto doc = nlohmann::json::parse(body_, nullptr, false);
    const std::string list_key(probe_.model_list_key);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains(list_key) ||
        !doc[list_key].is_array()) {
      result_.warnings.push_back(result_.target + ": could not read the model list from " +
                                 result_.probe);
      return;
    }
    for (const auto& m : doc[list_key]) {
      if (!m.is_object()) continue;
      for (const char* key : {"id", "name", "model"}) {
        if (!m.contains(key) || !m[key].is_string()) continue;
        const std::string v = m[key].get<std::string>();
        if (v == target_.model || v == target_.model + ":latest") return;
      }
    }
    result_.warnings.push_back(result_.target + ": model '" + target_.model +
                               "' is not in the server's list (" + result_.probe + ")");
  }

  // ConnectionOwner
  void on_connection_connected(HttpConnection&) override {}
  void on_connection_idle(HttpConnection& c) override {
    if (probe_.path.empty()) succeed();  // a connect-only probe
    c.close();
  }
  void on_connection_closing(HttpConnection&, const NetError* error, bool) override {
    if (error != nullptr) on_error(0, *error);
  }
  void on_connection_retry(HttpConnection&, const HttpRequest&, HttpListener*, int64_t) override {}
  void on_connection_closed(HttpConnection* c) override {
    delete c;
    conn_ = nullptr;
    if (next_after_close_ && !finished_) {
      next_after_close_ = false;
      next_probe();
    }
  }

  uv_loop_t* loop_;
  DnsCache& dns_;
  const PreflightTarget& target_;
  int64_t deadline_ns_;
  PreflightCheck& result_;
  Endpoint endpoint_;
  std::shared_ptr<TlsContext> tls_;
  ResolvedAddress address_;
  const PreflightProbe& probe_ = api_descriptor(target_.api).preflight;
  bool on_fallback_ = false;  // the first path answered without a model list
  HttpConnection* conn_ = nullptr;
  std::optional<HttpRequest> request_;
  std::string body_;
  bool finished_ = false;
  bool next_after_close_ = false;
};

}  // namespace

std::vector<PreflightCheck> run_preflight(const std::vector<PreflightTarget>& targets,
                                          int64_t timeout_ns) {
  std::vector<PreflightCheck> results(targets.size());
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    auto dns = std::make_unique<DnsCache>(&loop);
    std::vector<std::unique_ptr<Probe>> probes;
    const int64_t deadline = mono_now_ns() + timeout_ns;
    for (size_t i = 0; i < targets.size(); ++i) {
      probes.push_back(std::make_unique<Probe>(&loop, *dns, targets[i], deadline, results[i]));
      probes.back()->start();
    }
    // A guard for what the connection timers do not cover (a slow name lookup).
    struct Guard {
      std::vector<std::unique_ptr<Probe>>* probes;
      std::unique_ptr<DnsCache>* dns;
    } guard{&probes, &dns};
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timer.data = &guard;
    uv_timer_start(
        &timer,
        [](uv_timer_t* t) {
          auto* g = static_cast<Guard*>(t->data);
          for (auto& p : *g->probes) p->expire();
          g->dns->reset();  // cancels lookups in flight
        },
        uint64_t(timeout_ns / 1'000'000 + 50), 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&timer));
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    dns.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  return results;
}

PreflightTarget preflight_target(const Target& t) {
  PreflightTarget p;
  p.url = t.url;
  p.api = t.api;
  if (!t.models.empty()) p.model = t.models.front().name;
  for (const auto& h : t.headers) p.headers.push_back(HttpHeader{h.name, h.value});
  p.tls.insecure = t.tls.insecure;
  p.tls.ca_file = t.tls.ca_file;
  p.tls.cert_file = t.tls.cert_file;
  p.tls.key_file = t.tls.key_file;
  return p;
}

PreflightVerdict preflight_scenario(const Scenario& s) {
  std::vector<PreflightTarget> targets;
  int64_t timeout = 0;
  for (const Target& t : s.targets) {
    targets.push_back(preflight_target(t));
    timeout = std::max(timeout, t.timeouts.connect_ns);
  }
  PreflightVerdict v;
  for (const PreflightCheck& r : run_preflight(targets, timeout > 0 ? timeout : 10'000'000'000)) {
    for (const std::string& w : r.warnings) v.warnings.push_back(w);
    if (!r.ok) {
      v.ok = false;
      if (!v.error.empty()) v.error += "\n";
      v.error += r.message;
    }
  }
  return v;
}

}  // namespace llmload::worker
