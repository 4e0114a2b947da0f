#include "worker/preflight.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "worker/dns_cache.h"
#include "worker/endpoint.h"
#include "worker/http_connection.h"

namespace llmload::worker {
namespace {

constexpr size_t kMaxListBytes = 4 * 1024 * 1024;

enum class ProbeKind : uint8_t { kOpenAiModels, kOpenAiHealth, kOllamaTags, kConnect };

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
    if (target_.api.starts_with("openai"))
      kind_ = ProbeKind::kOpenAiModels;
    else if (target_.api.starts_with("ollama"))
      kind_ = ProbeKind::kOllamaTags;
    else
      kind_ = ProbeKind::kConnect;
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
    switch (kind_) {
      case ProbeKind::kOpenAiModels:
        path = endpoint_.path_for("/v1/models");
        break;
      case ProbeKind::kOpenAiHealth:
        path = std::string(endpoint_.base_prefix()) + "/health";
        break;
      case ProbeKind::kOllamaTags:
        path = endpoint_.path_for("/api/tags");
        break;
      case ProbeKind::kConnect:
        break;
    }
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
    if (status >= 200 && status < 300 && kind_ != ProbeKind::kOpenAiHealth) {
      check_model_list();
      succeed();
      return;
    }
    if (kind_ == ProbeKind::kOpenAiModels) {  // no model list here: try /health
      kind_ = ProbeKind::kOpenAiHealth;
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
    const char* list_key = kind_ == ProbeKind::kOllamaTags ? "models" : "data";
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
    if (kind_ == ProbeKind::kConnect) succeed();
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
  ProbeKind kind_ = ProbeKind::kConnect;
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

}  // namespace llmload::worker
